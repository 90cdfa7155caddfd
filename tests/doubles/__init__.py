"""Test doubles shared by several test suites."""
