"""Deterministic orchestration: one workflow per customer registration."""

from workflows.conversion import ConversionInput, LegacyConversion
from workflows.registration import NewRegistration, RegistrationInput

ALL_WORKFLOWS = [NewRegistration, LegacyConversion]

__all__ = ["ALL_WORKFLOWS", "ConversionInput", "LegacyConversion", "NewRegistration", "RegistrationInput"]
