"""Ticket tokens minted one by one and in bulk for imports."""

from collections import Counter

from participants.tokens import ALPHABET, TOKEN_LENGTH, format_token, generate_token, generate_tokens, normalize_token


def test_bulk_tokens_are_unique_canonical_and_use_every_symbol_evenly():
    tokens = generate_tokens(20_000)
    assert len(set(tokens)) == 20_000
    assert all(len(t) == TOKEN_LENGTH and normalize_token(t) == t for t in tokens)
    counts = Counter("".join(tokens))
    assert set(counts) == set(ALPHABET)
    expected = 20_000 * TOKEN_LENGTH / 32
    assert all(abs(n - expected) < expected * 0.05 for n in counts.values())


def test_printed_token_reads_back():
    token = generate_token()
    assert normalize_token(format_token(token, "TCF24").lower()) == token
