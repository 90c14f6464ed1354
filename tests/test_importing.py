"""Lead import parsing on a corpus of messy files generated here (no AWS)."""

from __future__ import annotations

import codecs
import json

import pytest

from pivotr.domain import importing
from pivotr.errors import DomainError
from pivotr.http import status_of

NOW = "2026-11-25T00:00:00.000Z"


def parse(data: bytes | str, content_type: str = "text/csv") -> importing.ParsedImport:
    return importing.parse(data.encode() if isinstance(data, str) else data, content_type, NOW)


def test_loose_headers_extra_columns_and_tags() -> None:
    csv_text = ("E-mail Address,First Name,Surname,Organisation,Tags,Plan Tier,\n"
                "Asha@Example.com,Asha,Rao,Rao & Co,beta; india,Pro,ignored\n")
    [lead] = parse(csv_text).leads
    assert lead["email"] == "asha@example.com"
    assert (lead["firstName"], lead["lastName"], lead["company"]) == ("Asha", "Rao", "Rao & Co")
    assert lead["tags"] == ["beta", "india"]
    assert lead["customAttributes"] == {"planTier": "Pro", "column7": "ignored"}


def test_cells_past_the_header_are_kept_as_numbered_attributes() -> None:
    [lead] = parse("email,company\na@example.com,Acme,extra\n").leads
    assert lead["customAttributes"] == {"column3": "extra"}


@pytest.mark.parametrize("encode", [
    lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    lambda t: t.encode("utf-8"),
    lambda t: t.encode("utf-16"),  # with BOM
    lambda t: t.encode("cp1252"),  # legacy single-byte
], ids=["utf8-bom", "utf8", "utf16-bom", "cp1252"])
def test_encodings(encode) -> None:
    [lead] = parse(encode("email,first_name\njose@example.com,José\n")).leads
    assert lead["firstName"] == "José"


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiters_are_sniffed(delimiter: str) -> None:
    text = delimiter.join(["Email", "Company"]) + "\n" + delimiter.join(["a@example.com", "Acme, Inc"]) + "\n"
    if delimiter == ",":
        text = text.replace("Acme, Inc", '"Acme, Inc"')
    assert parse(text).leads[0]["company"] == "Acme, Inc"


def test_row_numbers_count_like_a_spreadsheet_through_quoted_newlines_and_blank_lines() -> None:
    # Given: header (row 1), a record whose note spans two lines (row 2), a blank row (3), a bad row (4)
    text = 'email,note\na@example.com,"line one\nline two"\n\nnot-an-email,x\nb@example.com,y\n'
    result = parse(text)
    assert [r.row for r in result.invalid] == [4]
    assert result.invalid[0].value == "not-an-email" and "@" in result.invalid[0].reason
    assert result.rows == {result.leads[0]["id"]: 2, result.leads[1]["id"]: 5}
    assert result.leads[0]["customAttributes"]["note"] == "line one\nline two"
    assert result.received == 3  # blank rows are not leads


def test_cells_are_stored_as_the_user_gave_them_even_when_they_look_like_formulas() -> None:
    # Regression (issue 13): a phone number "+91 98..." was stored, and later mailed, as "'+91 98...";
    # neutralizing belongs where data leaves as a spreadsheet (domain/exports.py)
    text = "email,first name,company,phone,tags\na@example.com,=HYPERLINK(\"http://x\"),-Minus Ltd,+91 98765 43210,-x\n"
    lead = parse(text).leads[0]
    assert lead["firstName"] == "=HYPERLINK(\"http://x\")"
    assert lead["company"] == "-Minus Ltd" and lead["customAttributes"]["phone"] == "+91 98765 43210" and lead["tags"] == ["-x"]


def test_duplicates_inside_the_file_are_reported_case_insensitively() -> None:
    result = parse("email\na@example.com\nb@example.com\nA@EXAMPLE.com\n")
    assert len(result.leads) == 2
    assert result.duplicates_in_file == [{"row": 4, "email": "a@example.com", "firstRow": 2}]


def test_json_arrays_with_loose_keys_and_bad_items() -> None:
    body = json.dumps([{"Email": "a@example.com", "First Name": "A", "tags": ["x", "y"], "score": 7},
                       "not an object", {"email": "bad"}, {"name": "no email"}])
    result = parse(body, "application/json")
    assert result.leads[0]["firstName"] == "A" and result.leads[0]["tags"] == ["x", "y"]
    assert result.leads[0]["customAttributes"] == {"score": "7"}
    assert [(r.row, r.reason[:18]) for r in result.invalid] == [(2, "must be an object"), (3, result.invalid[1].reason[:18]), (4, "no e-mail address")]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "NUL"),
    (b"name,company\nA,B\n", "no e-mail column"),
    (b"[1, 2", "not valid JSON"),
])
def test_unusable_files_are_400_with_the_reason(data: bytes, message: str) -> None:
    content_type = "application/json" if data.startswith(b"[") else "text/csv"
    with pytest.raises(DomainError) as caught:
        parse(data, content_type)
    assert status_of(caught.value) == 400 and message in json.dumps(caught.value.details)


def test_header_only_is_an_empty_import() -> None:
    result = parse("Email,First Name\n")
    assert (result.received, result.leads, result.invalid) == (0, [], [])


def test_limits_answer_413_saying_the_limit() -> None:
    with pytest.raises(DomainError) as caught:
        parse("email\n" + "a@example.com\n" * (importing.MAX_ROWS + 1))
    assert status_of(caught.value) == 413 and "10,000 rows" in caught.value.message and "POST /imports" in caught.value.message
    with pytest.raises(DomainError) as caught:
        parse(b"x" * (importing.MAX_BYTES + 1))
    assert status_of(caught.value) == 413 and "1,024 KB" in caught.value.message and "POST /imports" in caught.value.message


def test_a_file_at_the_row_limit_is_counted_exactly() -> None:
    # Given 10,000 rows: every 1,000th invalid, every 500th a duplicate of the row before
    lines = ["Email,First Name"]
    for i in range(importing.MAX_ROWS):
        if i % 1000 == 999:
            lines.append(f"broken{i}@,N{i}")
        elif i % 500 == 499:
            lines.append(f"USER{i - 1}@example.com,N{i}")
        else:
            lines.append(f"user{i}@example.com,N{i}")
    result = parse("\n".join(lines) + "\n")
    # Then every row is accounted for, with spreadsheet row numbers
    assert result.received == 10_000
    assert len(result.invalid) == 10 and result.invalid[0].row == 1001
    assert len(result.duplicates_in_file) == 10 and result.duplicates_in_file[0]["row"] == 501
    assert len(result.leads) == 10_000 - 20


# -- headers people really have (issue 13) ---------------------------------------------------------
@pytest.mark.parametrize(("header", "row"), [
    ("Vorname;Nachname;E-Mail-Adresse;Firma", "Jürgen;Groß;j@beispiel.de;Müller AG"),  # German Outlook/Excel
    ("Prénom;Nom;Adresse e-mail;Société", "Jürgen;Groß;j@beispiel.de;Müller AG"),  # French
    ("Nombre,Apellidos,Correo electrónico,Empresa", "Jürgen,Groß,j@beispiel.de,Müller AG"),  # Spanish
    ("Primeiro nome,Sobrenome,Endereço de e-mail,Empresa", "Jürgen,Groß,j@beispiel.de,Müller AG"),  # Portuguese
    ("Nome;Cognome;Indirizzo email;Azienda", "Jürgen;Groß;j@beispiel.de;Müller AG"),  # Italian
    ("Voornaam;Achternaam;E-mailadres;Bedrijf", "Jürgen;Groß;j@beispiel.de;Müller AG"),  # Dutch
    ("First Name,Last Name,E-mail Address,Company", "Jürgen,Groß,j@beispiel.de,Müller AG"),  # Outlook, English
])
def test_headers_in_the_languages_people_export_in_map_to_lead_fields(header: str, row: str) -> None:
    # Regression (issue 13): "Vorname;Nachname;E-Mail-Adresse;Firma" was refused with "no e-mail column"
    result = parse(f"{header}\r\n{row}\r\n".encode("cp1252"))
    [lead] = result.leads
    assert (lead["email"], lead["firstName"], lead["lastName"], lead["company"]) == ("j@beispiel.de", "Jürgen", "Groß", "Müller AG")
    assert result.layout is not None and result.layout.chosen_by == "header"


def test_without_a_header_naming_it_the_column_of_addresses_is_the_e_mail_column() -> None:
    # Given a header in a language we do not know, whose third column holds the addresses
    result = parse("Imię,Nazwisko,Kontakt\nJan,Kowalski,jan@example.pl\nEwa,Nowak,ewa@example.pl\nOla,Lis,nie-ma\n")
    # Then that column is read as the e-mail, and the report says why
    assert [lead["email"] for lead in result.leads] == ["jan@example.pl", "ewa@example.pl"]
    assert result.layout is not None and result.layout.describe() == {"column": 3, "header": "Kontakt", "chosenBy": "values", "hasHeader": True}
    assert [(r.row, r.value) for r in result.invalid] == [(4, "nie-ma")]


def test_a_file_without_a_header_starts_with_data() -> None:
    result = parse("a@example.com;Anna\nb@example.com;Bert\n")
    assert [(lead["email"], lead["customAttributes"]) for lead in result.leads] == [
        ("a@example.com", {"column2": "Anna"}), ("b@example.com", {"column2": "Bert"})]
    assert result.rows == {result.leads[0]["id"]: 1, result.leads[1]["id"]: 2}  # row 1 is data
    assert result.layout is not None and result.layout.describe()["hasHeader"] is False


def test_a_header_with_no_e_mail_column_and_no_addresses_names_the_headers() -> None:
    with pytest.raises(DomainError) as caught:
        parse("Name,Stadt\nAnna,Berlin\n")
    assert "no e-mail column" in json.dumps(caught.value.details) and "Stadt" in json.dumps(caught.value.details)


# -- the streaming import's record boundaries ---------------------------------------------------------
@pytest.mark.parametrize(("block", "at_end", "whole"), [
    (b"a,b\nc,d\ne,", False, 8),  # the last record is cut: it waits for the next block
    (b'a,"x\ny"\nc,d', False, 8),  # a newline inside quotes does not end a record
    (b'a,"x ""q"""\nb', False, 12),  # doubled quotes inside a quoted cell
    (b'a,"never closed\nb,c\n', False, 0),  # no whole record yet
    (b"a,b", True, 3),  # the file's end ends the last record
])
def test_whole_records_ends_at_a_newline_outside_quotes(block: bytes, at_end: bool, whole: int) -> None:
    assert importing.whole_records(block, at_end) == whole


def test_a_file_with_huge_headers_and_thousands_of_columns_keeps_a_small_layout() -> None:
    # Given a header of 5,000 columns, one of them 100,000 characters long, and the e-mail in column 3
    header = ["x" * 100_000, "b", "E-Mail"] + [f"c{i}" for i in range(4_997)]
    result = parse(",".join(header) + "\n" + ",".join(["1", "2", "a@example.com"] + ["v"] * 4_997) + "\n")
    # Then the lead is read, and the layout a job would store stays far below DynamoDB's 400 KB item
    assert [lead["email"] for lead in result.leads] == ["a@example.com"]
    assert result.layout is not None and len(json.dumps(result.layout.to_json())) < 40_000
