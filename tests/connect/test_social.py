import pytest
from django.core.exceptions import ValidationError

from connect.social import parse_social_account


@pytest.mark.parametrize(
    ("platform", "value", "handle", "url"),
    [
        ("instagram", "@ola.creates", "ola.creates", "https://www.instagram.com/ola.creates/"),
        (
            "instagram",
            "https://www.instagram.com/ola.creates/",
            "ola.creates",
            "https://www.instagram.com/ola.creates/",
        ),
        (
            "instagram",
            "instagram.com/ola.creates",
            "ola.creates",
            "https://www.instagram.com/ola.creates/",
        ),
        (
            "tiktok",
            "https://www.tiktok.com/@maria.es",
            "maria.es",
            "https://www.tiktok.com/@maria.es",
        ),
        ("tiktok", "maria.es", "maria.es", "https://www.tiktok.com/@maria.es"),
        (
            "youtube",
            "https://youtube.com/@KuchniaOli",
            "KuchniaOli",
            "https://www.youtube.com/@KuchniaOli",
        ),
        ("x", "https://twitter.com/ola_pl", "ola_pl", "https://x.com/ola_pl"),
        ("twitch", "twitch.tv/olagames", "olagames", "https://www.twitch.tv/olagames"),
        ("other", "https://ola.blog/about", "about", "https://ola.blog/about"),
    ],
)
def test_parse_social_account_normalises_handles_and_urls(
    platform: str, value: str, handle: str, url: str
) -> None:
    # when
    parsed = parse_social_account(platform, value)

    # then
    assert (parsed.platform, parsed.handle, parsed.url) == (platform, handle, url)


@pytest.mark.parametrize(
    ("platform", "value", "message"),
    [
        ("instagram", "https://www.tiktok.com/@ola", "This is not a Instagram profile URL."),
        (
            "instagram",
            "https://www.instagram.com/p/Cx1/",
            "This Instagram URL does not point to a profile.",
        ),
        ("instagram", "ola..creates", "“ola..creates” is not a valid Instagram handle."),
        ("tiktok", "https://www.tiktok.com/ola", "This TikTok URL does not point to a profile."),
        (
            "x",
            "this_handle_is_far_too_long",
            "“this_handle_is_far_too_long” is not a valid X handle.",
        ),
        ("twitch", "ftp://twitch.tv/olagames", "This is not a Twitch profile URL."),
        ("other", "not a url", "For other platforms, enter the full profile URL."),
        ("instagram", "   ", "Enter a handle or a profile URL."),
    ],
)
def test_parse_social_account_refuses_bad_input_with_a_clear_error(
    platform: str, value: str, message: str
) -> None:
    # when
    with pytest.raises(ValidationError) as exc:
        parse_social_account(platform, value)

    # then
    assert exc.value.messages == [message]
