"""OpenAI's error answers: `{"error": {"message", "type", "param", "code"}}`, with the
messages and codes the real API gives for each."""

from dataclasses import dataclass


@dataclass(slots=True)
class OpenAiError(Exception):
    status: int
    message: str
    type: str = "invalid_request_error"
    param: str | None = None
    code: str | None = None

    def body(self) -> dict[str, object]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


def no_key() -> OpenAiError:
    return OpenAiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
    )


def wrong_key(key: str) -> OpenAiError:
    shown = f"{key[:3]}*****{key[-4:]}" if len(key) > 8 else "*****"
    return OpenAiError(401, f"Incorrect API key provided: {shown}.", code="invalid_api_key")


def invalid(message: str, param: str | None = None, code: str | None = None) -> OpenAiError:
    return OpenAiError(400, message, param=param, code=code)


def unknown_model(model: str) -> OpenAiError:
    return OpenAiError(
        404,
        f"The model `{model}` does not exist or you do not have access to it.",
        code="model_not_found",
    )


def bad_image() -> OpenAiError:
    return invalid(
        "You uploaded an unsupported image. Please make sure your image has of one the "
        "following formats: ['png', 'jpeg', 'gif', 'webp'].",
        code="invalid_image_format",
    )


def rate_limited(model: str) -> OpenAiError:
    return OpenAiError(
        429,
        f"Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3, "
        "Requested 1. Please try again in 20s.",
        type="requests",
        param="requests",
        code="rate_limit_exceeded",
    )


def server_error() -> OpenAiError:
    return OpenAiError(
        500,
        "The server had an error while processing your request. Sorry about that!",
        type="server_error",
    )
