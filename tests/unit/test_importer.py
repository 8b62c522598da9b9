from services.demo import SIGNATORIES_CSV
from services.registry.importer import parse

HEADER = "abbreviation,name,name_en,country,timezone,languages\n"


def test_the_2022_signatory_list_parses_whole():
    text = SIGNATORIES_CSV.read_text()
    rows, errors = parse(text)
    assert errors == [] and len(rows) == 29
    names = {fields["abbreviation"]: fields for _, fields in rows}
    assert names["CPK"]["country"] == "KE"
    assert any(f["name"] != f["name_en"] for f in names.values())  # native names kept


def test_bad_rows_are_reported_with_line_and_field():
    text = HEADER + ("CPK,Communist Party of Kenya,Communist Party of Kenya,KE,Africa/Nairobi,sw en\n"
                     "X,Name,Name,XX,Europe/Berlin,de\n"
                     "Y,Name,Name,DE,Mars/Base,de\n"
                     "Z,Name,Name,DE,Europe/Berlin,zz\n")
    rows, errors = parse(text)
    assert [line for line, _ in rows] == [2]
    assert [(e.line, e.field) for e in errors] == [(3, "country"), (4, "timezone"), (5, "languages")]
    assert "line 3, field country" in str(errors[0])


def test_a_repeated_organisation_in_one_file_is_an_error_naming_the_first_line():
    text = HEADER + "CPK,A,A,KE,Africa/Nairobi,\ncpk,B,B,KE,Africa/Nairobi,\n"
    rows, errors = parse(text)
    assert len(rows) == 1 and errors[0].line == 3 and "repeats line 2" in errors[0].message


def test_a_missing_required_column_is_named():
    rows, errors = parse("abbreviation,name\nA,B\n")
    assert rows == [] and {e.field for e in errors} == {"name_en", "country", "timezone"}


def test_columns_the_file_lacks_are_left_alone():
    rows, _ = parse("abbreviation,name,name_en,country,timezone\nA,B,C,DE,Europe/Berlin\n")
    assert "contact_email" not in rows[0][1] and "website" not in rows[0][1]
