"""Twilio-shaped errors: one exception type, one response shape, a few constructors.

Body: ``{"code": int, "message": str, "more_info": "https://www.twilio.com/docs/errors/<code>",
"status": int}`` — what the twilio SDK turns into ``TwilioRestException(status, uri, msg, code)``.

Codes marked "sandbox choice" are not documented by Twilio for this situation; they are fixed here
so that tests can rely on them.
"""

from __future__ import annotations

from starlette.responses import JSONResponse

# Generic.
BAD_REQUEST = 20001          # missing or invalid parameter
AUTHENTICATE = 20003
METHOD_NOT_ALLOWED = 20004
NOT_FOUND = 20404
TOO_MANY_REQUESTS = 20429
INTERNAL = 20500
# Trust Hub.
BUNDLE_NOT_COMPLIANT = 22215     # sandbox choice (the evaluation's "field missing" code)
BUNDLE_STATE = 22218             # sandbox choice: bundle cannot change in its current status
STATUS_WITH_OTHER_FIELDS = 22204
# Brands.
BRAND_UPDATE_NOT_FAILED = 21725
BRAND_FIX_FIRST = 60723
BRAND_TOO_MANY_UPDATES = 21724   # "Brand update count exceeded"
BRAND_WRONG_BUNDLES = 30793
BRAND_INVALID_INPUT = 30701
BRAND_MAX_REGISTRATIONS = 30712
BRAND_UNSUPPORTED_MOBILE = 30751
OTP_INVALID_OR_EXPIRED = 30752
# Campaigns.
CAMPAIGN_OPT_IN_MISSING = 30896
CAMPAIGN_NOT_ALLOWED = 21711     # sandbox choice: brand/service not eligible for this campaign
CAMPAIGN_UPDATE_NOT_FAILED = 21727  # sandbox choice: a campaign can be updated only while FAILED
# Messaging service numbers.
NUMBER_ALREADY_IN_SERVICE = 21710
SOLE_PROP_ONE_NUMBER = 21714     # sandbox choice


def more_info(code: int) -> str:
    return f"https://www.twilio.com/docs/errors/{code}"


class ApiError(Exception):
    def __init__(self, status: int, code: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "more_info": more_info(self.code), "status": self.status}

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def bad_request(message: str, code: int = BAD_REQUEST) -> ApiError:
    return ApiError(400, code, message)


def missing(field: str) -> ApiError:
    return ApiError(400, BAD_REQUEST, f"Missing required parameter {field} in the post body")


def invalid(field: str, detail: str, code: int = BAD_REQUEST) -> ApiError:
    return ApiError(400, code, f"Invalid parameter {field}: {detail}")


def not_found(path: str) -> ApiError:
    return ApiError(404, NOT_FOUND, f"The requested resource {path} was not found")


def unauthorized() -> ApiError:
    return ApiError(
        401, AUTHENTICATE, "Authenticate", headers={"WWW-Authenticate": 'Basic realm="Twilio API"'}
    )


def too_many_requests(message: str = "Too Many Requests", retry_after: float = 1) -> ApiError:
    return ApiError(429, TOO_MANY_REQUESTS, message, headers={"Retry-After": str(max(1, round(retry_after)))})


def method_not_allowed() -> ApiError:
    return ApiError(405, METHOD_NOT_ALLOWED, "Method not allowed")


def internal() -> ApiError:
    return ApiError(500, INTERNAL, "Internal Server Error (injected by the sandbox)")
