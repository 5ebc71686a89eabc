import pytest
from django.core.exceptions import ValidationError

from connect.handles import validate_handle


@pytest.mark.parametrize(
    "value", ["ola_creates", "Ola_Creates", "abc", "a" * 30, "@maria_es", "x1_2"]
)
def test_validate_handle_accepts_url_safe_handles(value: str) -> None:
    # when
    handle = validate_handle(value)

    # then
    assert handle == value.removeprefix("@")


@pytest.mark.parametrize(
    "value",
    [
        "ab",
        "a" * 31,
        "ola creates",
        "ola-creates",
        "ola.creates",
        "żaneta",
        "ola/../x",
        "",
        "<script>",
    ],
)
def test_validate_handle_refuses_bad_format_with_a_clear_error(value: str) -> None:
    # when
    with pytest.raises(ValidationError) as exc:
        validate_handle(value)

    # then
    assert exc.value.code == "handle_format"
    assert exc.value.messages == ["Use 3 to 30 characters: letters, digits and underscores only."]


@pytest.mark.parametrize("value", ["admin", "ADMIN", "Support", "staff", "api"])
def test_validate_handle_refuses_reserved_words_in_any_case(value: str) -> None:
    # when
    with pytest.raises(ValidationError) as exc:
        validate_handle(value)

    # then
    assert exc.value.code == "reserved"
