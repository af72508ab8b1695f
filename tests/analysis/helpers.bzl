"""Helpers shared by the analysis tests."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

def one_action(env, mnemonic):
    """The one action of the target under test with this mnemonic, or None (and a failed assertion)."""
    found = [a for a in analysistest.target_actions(env) if a.mnemonic == mnemonic]
    asserts.equals(env, 1, len(found), "want exactly one %s action" % mnemonic)
    return found[0] if found else None

def _failure_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

# Expects the target under test to fail analysis with a message containing `message`.
failure_test = analysistest.make(
    _failure_impl,
    attrs = {"message": attr.string(mandatory = True)},
    expect_failure = True,
)
