"""rules_go's own build settings, fixed for what is built as a tool.

rules_go's transitions (a go_binary's `pure`, a go_test's nogo request) set
internal settings that then travel into the exec configuration of
everything below: the cc toolchain, and so the compiler bundle and dev
sysroot it runs, would be built again, byte for byte, under each variant.
A transition to fixed values makes every path to them one configuration.
"""

_PURE = "@rules_go//go/config:pure"
_ORIGINAL_PURE = "@rules_go//go/private/rules:original_pure"
_REQUEST_NOGO = "@rules_go//go/private:request_nogo"

GO_SETTINGS = [str(Label(s)) for s in [_PURE, _ORIGINAL_PURE, _REQUEST_NOGO]]

def go_settings(pure):
    """The fixed values of rules_go's settings.

    Args:
      pure: the value of `@rules_go//go/config:pure`.

    Returns:
      A dict for a transition's return value.
    """
    return {
        str(Label(_PURE)): pure,
        str(Label(_ORIGINAL_PURE)): "",
        str(Label(_REQUEST_NOGO)): False,
    }

def _impl(_settings, _attr):
    return go_settings(False)

go_neutral_transition = transition(
    implementation = _impl,
    inputs = [],
    outputs = GO_SETTINGS,
)
