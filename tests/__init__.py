"""The test suite. A package (as are its folders, which mirror the source tree), so that pytest puts the repository
root on sys.path and tests/lifting, tests/tools, ... never stand in for the packages they test."""
