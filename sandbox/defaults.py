"""Identities the sandbox is born with. The local stack and the tests configure a2p-registrar with
these, so that nothing needs a Twilio account."""

from typing import Final

PARENT_ACCOUNT_SID: Final = "AC" + "5a4d0b0c" * 4          # the ISV's parent account
PARENT_AUTH_TOKEN: Final = "sandbox0auth0token0000000000000a"  # 32 chars, like Twilio's
# The ISV's primary customer profile (business identity "ISV Reseller or Partner"), twilio-approved.
PRIMARY_CUSTOMER_PROFILE_SID: Final = "BU" + "15fa11ce" * 4
DEFAULT_PORT: Final = 8010
