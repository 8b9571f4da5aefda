"""Rights: licences, consent, opt-out signals, suppression, policy checks and attribution."""
