"""Deterministic orchestration: one workflow per customer registration."""

from workflows.registration import NewRegistration, RegistrationInput

ALL_WORKFLOWS = [NewRegistration]

__all__ = ["ALL_WORKFLOWS", "NewRegistration", "RegistrationInput"]
