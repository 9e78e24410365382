"""Settings checks for the model gateway (`manage.py check`)."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from apps.llm.providers import PROVIDERS
from apps.llm.providers.openai_compat import FORMATS


@register()
def llm_settings_check(app_configs, **kwargs):
    problems = []
    provider = (settings.LLM_PROVIDER or "").strip().lower()
    if provider not in PROVIDERS:
        problems.append(
            Error(
                f"LLM_PROVIDER is {provider!r}.", hint=f"Use one of: {', '.join(PROVIDERS)}.", id="llm.E001"
            )
        )
    if settings.LLM_RESPONSE_FORMAT not in FORMATS:
        problems.append(
            Error(
                f"LLM_RESPONSE_FORMAT is {settings.LLM_RESPONSE_FORMAT!r}.",
                hint=f"Use one of: {', '.join(FORMATS)}.",
                id="llm.E002",
            )
        )
    if not settings.LLM_TIMEOUT_SECONDS > 0 or settings.LLM_MAX_RETRIES < 0:
        problems.append(
            Error("LLM_TIMEOUT_SECONDS must be above 0 and LLM_MAX_RETRIES at least 0.", id="llm.E003")
        )
    if provider == "builtin" and settings.LLM_BASE_URL:
        problems.append(
            Warning(
                "LLM_BASE_URL is set but LLM_PROVIDER is builtin, so no model server is used.",
                hint="Set LLM_PROVIDER=openai to use the server at LLM_BASE_URL.",
                id="llm.W001",
            )
        )
    if provider == "openai" and not settings.LLM_BASE_URL and not settings.LLM_API_KEY:
        problems.append(
            Warning(
                "LLM_PROVIDER is openai with neither LLM_BASE_URL nor LLM_API_KEY.",
                hint="Point LLM_BASE_URL at an OpenAI-compatible server, or set LLM_API_KEY for OpenAI.",
                id="llm.W002",
            )
        )
    return problems
