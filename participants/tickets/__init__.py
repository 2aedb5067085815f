"""Tickets sub-domain of participants: the signed QR, the welcome email that carries it, its delivery and bounces."""
