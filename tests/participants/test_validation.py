"""The shared field validators: stored forms and stable error codes."""

import datetime as dt

import pytest
from email_validator import EmailNotValidError, validate_email

from participants.validation import (
    FieldInvalid,
    ValidationContext,
    clean_birth_date,
    clean_email,
    clean_name,
    clean_participant,
    clean_phone,
)

ADDRESSES = [
    "Kim.Minsu@Example.COM",
    "a+tag@sub.example.co.kr",
    "o'brien@example.org",
    "user@localhost",
    "user@example",
    "user@-example.com",
    "user@example-.com",
    "user@exa_mple.com",
    "user@123.123.123.123",
    "user@example.123",
    "user@test",
    "user@invalid",
    "user@foo.local",
    ".user@example.com",
    "us..er@example.com",
    "user.@example.com",
    "user@@example.com",
    "user@example..com",
    "user name@example.com",
    '"quoted"@example.com',
    "Kim <kim@example.com>",
    "김민수@example.com",
    "user@예시.한국",
    "x" * 64 + "@example.com",
    "x" * 65 + "@example.com",
    "x@" + "a" * 63 + ".com",
    "x@" + ("a" * 60 + ".") * 4 + "com",
    "user@EXAMPLE.com.",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_email_fast_path_agrees_with_email_validator(address):
    try:
        expected = validate_email(address, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        expected = "invalid_email"
    try:
        actual = clean_email(address)
    except FieldInvalid as exc:
        actual = exc.code
    assert actual == expected


def test_name_is_trimmed_and_bounded():
    assert clean_name("  Kim   Minsu ") == "Kim Minsu"
    for value, code in [("", "name_required"), (None, "name_required"), ("K", "name_too_short"), ("k" * 101, "name_too_long")]:
        with pytest.raises(FieldInvalid) as caught:
            clean_name(value)
        assert caught.value.code == code


@pytest.mark.parametrize(
    "raw,region,expected",
    [
        ("010-1234-5678", "KR", "+821012345678"),
        ("+1 650 253 0000", "KR", "+16502530000"),
        ("(650) 253-0000", "US", "+16502530000"),
        (1012345678, "KR", "+821012345678"),
    ],
)
def test_phone_is_normalised_to_e164_with_the_event_region(raw, region, expected):
    assert clean_phone(raw, region=region) == expected


@pytest.mark.parametrize("raw", ["12", "010-1234", "not a phone"])
def test_invalid_phone_is_an_error(raw):
    with pytest.raises(FieldInvalid) as caught:
        clean_phone(raw, region="KR")
    assert caught.value.code == "invalid_phone"


@pytest.mark.parametrize("raw", ["not a phone", "+999 1234", "12"])
def test_invalid_phone_is_explained_in_plain_words_with_the_value(raw):
    with pytest.raises(FieldInvalid) as caught:
        clean_phone(raw, region="KR")
    assert caught.value.message.startswith(f"Not a phone number we can read: '{raw}'")
    assert "string supplied" not in caught.value.message and "plus-sign" not in caught.value.message


def test_a_long_unreadable_phone_value_is_shortened_in_the_message():
    with pytest.raises(FieldInvalid) as caught:
        clean_phone("x" * 300, region="KR")
    assert caught.value.message.startswith("Not a phone number we can read: 'xxxx")
    assert len(caught.value.message) < 150


@pytest.mark.parametrize(
    "raw", ["1990-03-04", "1990.03.04", "1990/03/04", "19900304", "1990. 3. 4.", "1990년 03월 04일", dt.date(1990, 3, 4)]
)
def test_birth_date_formats(raw):
    assert clean_birth_date(raw, reference_date=dt.date(2026, 1, 1)) == dt.date(1990, 3, 4)


def test_age_is_counted_at_the_event_start():
    assert clean_birth_date("2013-01-01", reference_date=dt.date(2026, 1, 1)) == dt.date(2013, 1, 1)
    with pytest.raises(FieldInvalid) as caught:
        clean_birth_date("2013-01-02", reference_date=dt.date(2026, 1, 1))
    assert caught.value.code == "too_young"
    for raw in ["04/03/1990", "2999-01-01", "1990-02-30"]:
        with pytest.raises(FieldInvalid) as caught:
            clean_birth_date(raw, reference_date=dt.date(2026, 1, 1))
        assert caught.value.code == "invalid_birth_date"


def test_a_row_reports_every_error_with_its_column():
    cleaned = clean_participant({"name": "K", "email": "x", "organization": "o" * 201}, context=ValidationContext())
    assert [(e.column, e.code) for e in cleaned.errors] == [
        ("name", "name_too_short"),
        ("email", "invalid_email"),
        ("organization", "value_too_long"),
    ]
