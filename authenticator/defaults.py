"""The defaults of the server's settings (docs/cli.md), defined once.

``ServerConfig`` gives them to the file's keys and the flags; the parts that take a setting as a
keyword (the STS client, its transport) and the command line's ``init`` and help texts read the
same names. It imports nothing at run time: the binary's entry module reads it to build its parser.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

__all__ = [
    "ADDRESS",
    "HOSTNAME",
    "LOG_FORMAT",
    "LOG_VERBOSITY",
    "PARTITION",
    "PORT",
    "STATE_DIR",
    "STS_MAX_IN_FLIGHT",
    "STS_MAX_IN_FLIGHT_WAIT",
    "STS_TIMEOUT",
    "VERIFICATION_CACHE_SIZE",
    "VERIFICATION_CACHE_TTL",
]

ADDRESS: Final = "127.0.0.1"  # where the webhook listens
PORT: Final = 21362
HOSTNAME: Final = "localhost"  # in the certificate and the webhook kubeconfig
STATE_DIR: Final = "./state"  # the server's cert.pem, key.pem and webhook kubeconfig
PARTITION: Final = "aws"
LOG_FORMAT: Final = "text"
LOG_VERBOSITY: Final = "info"
VERIFICATION_CACHE_TTL: Final = 60.0  # seconds; 0 disables the cache
VERIFICATION_CACHE_SIZE: Final = 100_000  # entries; 0 disables the cache
STS_MAX_IN_FLIGHT: Final = 64  # STS calls at once, and so connections to STS
STS_MAX_IN_FLIGHT_WAIT: Final = 2.0  # seconds a review waits for a free call
STS_TIMEOUT: Final = 10.0  # seconds for one STS call
