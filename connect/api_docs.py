"""The API's documentation pages: the OpenAPI schema, Swagger UI and Redoc, all public.

Both readers load from the drf-spectacular-sidecar package's static files (no CDN) and
run under the site's CSP, which allows no inline script or style:

- Swagger UI is drf-spectacular's split view: the page loads its start-up script from the
  same URL with `?script`, as a file, instead of inline. Its CSP is the site's.
- Redoc is started by a script file of ours (`static/js/api_redoc.js`), but it writes its
  styles into <style> elements as it renders. It gives them the nonce we pass it, so this
  page alone adds the response's nonce to `style-src`, with the hashes of the two <style>
  elements the bundle writes as it loads, before it can know the nonce (perfect-scrollbar's
  stylesheet and an empty one). Scripts stay 'self' only. A browser test fails if an
  upgrade of the sidecar changes those styles.
"""

from __future__ import annotations

from typing import Any

from csp.constants import NONCE
from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponseBase
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

SCHEMA_URL_NAME = "api-schema"

# The <style> elements redoc.standalone.js (drf-spectacular-sidecar 2026.10.1, Redoc 2.5)
# writes before Redoc starts: perfect-scrollbar's stylesheet, and an empty one.
REDOC_LOAD_STYLE_HASHES = (
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
)


class ApiSwaggerView(SpectacularSwaggerSplitView):
    url_name = SCHEMA_URL_NAME
    template_name = "connect/api_swagger.html"


class ApiRedocView(SpectacularRedocView):
    url_name = SCHEMA_URL_NAME
    template_name = "connect/api_redoc.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        respond = csp_update({"style-src": [NONCE, *REDOC_LOAD_STYLE_HASHES]})(super().dispatch)
        return respond(request, *args, **kwargs)
