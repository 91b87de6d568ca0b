"""dbt-data-mesh: a data mesh toolkit for Snowflake, built on dbt."""

import warnings

__version__ = "0.1.0"

# The Snowflake connector vendors a requests that refuses chardet 6+ with a RequestsDependencyWarning on every
# import (every build, on every target); chardet is pinned below 6 (pyproject.toml) and, where an environment
# holds a newer one anyway, that one warning is filtered here, in every mesh process and dbt worker.
warnings.filterwarnings("ignore", message=r"urllib3 \(.*\) or chardet \(.*\)/charset_normalizer \(.*\) doesn't "
                        r"match a supported version")
