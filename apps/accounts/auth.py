from ninja.security import HttpBearer

from apps.accounts import services


class BearerTokenAuth(HttpBearer):
    """`Authorization: Bearer <personal access token>`: acts as the token's user in the token's workspace."""

    def authenticate(self, request, token: str):
        access_token = services.access_token_authenticate(raw=token)
        if access_token is None:
            return None
        request.user = access_token.user
        request.tenant = access_token.tenant
        request.access_token = access_token
        return access_token.user
