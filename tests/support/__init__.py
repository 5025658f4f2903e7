"""Test helpers shared by the test suite (loopback servers, fixtures)."""
