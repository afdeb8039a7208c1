"""Fake servers on loopback that model the external services CodegenApp talks to."""
