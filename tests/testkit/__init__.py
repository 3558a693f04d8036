"""Helpers the tests share, by what they are about; fixtures stay in tests/conftest.py."""
