"""The rights steps: ``rights.license_normalize``, ``rights.license_detect``, ``rights.optout``,
``rights.policy``."""
