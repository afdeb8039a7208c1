"""What the fake accepts, as OpenAI's chat completions API does: a JSON object with a known
`model`, a non-empty `messages` list of known roles whose content is text or a list of text
and image_url parts, images as http(s) URLs or base64 data URLs of a real image, known
top-level parameters only, and in JSON mode the word "json" somewhere in the messages."""

import base64
import binascii
import re

from tests.fakes.llm.errors import bad_image, invalid, unknown_model

ROLES = ("system", "developer", "user", "assistant", "tool")
PARAMETERS = {
    "model",
    "messages",
    "response_format",
    "temperature",
    "top_p",
    "n",
    "stream",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "user",
    "logprobs",
    "top_logprobs",
    "tools",
    "tool_choice",
    "store",
    "metadata",
}
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
_DATA_URL = re.compile(r"data:image/(?P<kind>png|jpeg|gif|webp);base64,(?P<data>.*)", re.DOTALL)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check(body: object, *, model: str) -> list[bytes]:
    """Refuse `body` as OpenAI would (raise `OpenAiError`); the decoded images it carries."""
    if not isinstance(body, dict):
        raise invalid("We could not parse the JSON body of your request.")
    unknown = sorted(set(body) - PARAMETERS)
    if unknown:
        raise invalid(f"Unrecognized request argument supplied: {unknown[0]}")
    if "model" not in body:
        raise invalid("you must provide a model parameter")
    if body["model"] != model:
        raise unknown_model(str(body["model"]))
    messages = body.get("messages")
    if messages is None:
        raise invalid(
            "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
        )
    if not isinstance(messages, list) or not messages:
        raise invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages"
        )
    images: list[bytes] = []
    texts: list[str] = []
    for index, message in enumerate(messages):
        images += _message(message, f"messages[{index}]", texts)
    _response_format(body.get("response_format"), texts)
    return images


def _message(message: object, where: str, texts: list[str]) -> list[bytes]:
    if not isinstance(message, dict):
        raise invalid(f"Invalid type for '{where}': expected an object.", where)
    role = message.get("role")
    if role not in ROLES:
        raise invalid(
            f"Invalid value: '{role}'. Supported values are: {', '.join(map(repr, ROLES))}.",
            f"{where}.role",
            "invalid_value",
        )
    content = message.get("content")
    if isinstance(content, str):
        texts.append(content)
        return []
    if not isinstance(content, list) or not content:
        raise invalid(
            f"Invalid type for '{where}.content': expected one of a string or array of objects.",
            f"{where}.content",
        )
    if role != "user" and any(
        isinstance(p, dict) and p.get("type") == "image_url" for p in content
    ):
        raise invalid(
            "Image URLs are only allowed for messages with role 'user', but this message with "
            f"role '{role}' contains an image URL.",
            f"{where}.content",
        )
    images = []
    for index, part in enumerate(content):
        at = f"{where}.content[{index}]"
        if not isinstance(part, dict):
            raise invalid(f"Invalid type for '{at}': expected an object.", at)
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            images += _image(part, at)
        else:
            raise invalid(
                f"Invalid value: '{kind}'. Supported values are: 'text', 'image_url'.",
                f"{at}.type",
                "invalid_value",
            )
    return images


def _image(part: dict[str, object], at: str) -> list[bytes]:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else None
    if not isinstance(url, str):
        raise invalid(
            f"Missing required parameter: '{at}.image_url.url'.",
            f"{at}.image_url.url",
            "missing_required_parameter",
        )
    detail = image.get("detail", "auto") if isinstance(image, dict) else "auto"
    if detail not in ("auto", "low", "high"):
        raise invalid(
            f"Invalid value: '{detail}'. Supported values are: 'auto', 'low' and 'high'.",
            f"{at}.image_url.detail",
        )
    if url.startswith(("http://", "https://")):
        return []  # the real API would fetch it; a test never sends one
    found = _DATA_URL.fullmatch(url)
    if found is None:
        raise invalid(
            "Invalid image URL: expected a base64-encoded data URL with an image MIME type "
            "(e.g. 'data:image/png;base64,...'), or a URL.",
            f"{at}.image_url.url",
            "invalid_image_url",
        )
    try:
        data = base64.b64decode(found.group("data"), validate=True)
    except (binascii.Error, ValueError):
        raise bad_image() from None
    if found.group("kind") == "png" and not data.startswith(PNG_MAGIC):
        raise bad_image()
    return [data]


def _response_format(value: object, texts: list[str]) -> None:
    if value is None:
        return
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in RESPONSE_FORMATS:
        raise invalid(
            f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', "
            "and 'text'.",
            "response_format.type",
            "invalid_value",
        )
    if kind == "json_object" and not any("json" in text.lower() for text in texts):
        raise invalid(
            "'messages' must contain the word 'json' in some form, to use 'response_format' of "
            "type 'json_object'.",
            "messages",
        )
