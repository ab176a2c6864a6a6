"""A reseller admin's portal users (served by the gateway itself)."""

from gateway import users
from gateway.routes import ADMIN_ONLY, Route
from portal_contracts.api.users import (
    InvitedUserSchema,
    InviteUserRequest,
    UpdateUserRequest,
    UserListArgs,
    UserPageSchema,
    UserSchema,
)

TAG = "Users"

ROUTES = [
    Route(
        "GET",
        "/users",
        "gateway",
        "The reseller's portal users",
        TAG,
        roles=ADMIN_ONLY,
        query=UserListArgs,
        response=UserPageSchema,
        handler=users.list_users,
    ),
    Route(
        "POST",
        "/users",
        "gateway",
        "Invite a portal user (a temporary password goes to the address by e-mail)",
        TAG,
        roles=ADMIN_ONLY,
        body=InviteUserRequest,
        response=InvitedUserSchema,
        status=202,
        handler=users.invite_user,
        errors=(409,),
    ),
    Route(
        "PATCH",
        "/users/{user_id}",
        "gateway",
        "Change a portal user's roles or disable it",
        TAG,
        roles=ADMIN_ONLY,
        body=UpdateUserRequest,
        response=UserSchema,
        handler=users.update_user,
        errors=(409,),
    ),
]
