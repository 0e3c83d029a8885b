"""The test settings with the API's rate limits on, as production has them (the suite's settings turn
them off): for servers that show what a user meets when the rate counters' Redis is down."""
from smartc.settings.base import REST_FRAMEWORK as PRODUCTION_REST_FRAMEWORK
from smartc.settings.test import *  # noqa: F401,F403

REST_FRAMEWORK = PRODUCTION_REST_FRAMEWORK
