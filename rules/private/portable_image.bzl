"""portable_image: a bundle as an OCI image."""

load(":providers.bzl", "PortableBundleInfo")
load(":toolchain.bzl", "TOOLCHAIN_TYPE")

def _portable_image_impl(ctx):
    bundle = ctx.attr.bundle[PortableBundleInfo]
    tool = ctx.toolchains[TOOLCHAIN_TYPE].portable
    name = bundle.entry_points[0]
    if ctx.attr.format == "tar":
        out = ctx.actions.declare_file(ctx.label.name + ".tar")
    else:
        out = ctx.actions.declare_directory(ctx.label.name)
    layer = ctx.actions.declare_file(ctx.label.name + ".layer.tar.gz")
    args = ctx.actions.args()
    args.add("image")
    args.add("-o", out.path)
    args.add("--layer", layer)
    args.add("--entrypoint", "bin/" + (ctx.attr.entrypoint or name))
    args.add("--prefix", ctx.attr.prefix or "/opt/" + name)
    if ctx.attr.tag:
        args.add("--tag", ctx.attr.tag)
    args.add(bundle.directory.path)
    ctx.actions.run(
        executable = tool.files_to_run,
        toolchain = TOOLCHAIN_TYPE,
        arguments = [args],
        inputs = [bundle.directory],
        outputs = [out, layer],
        mnemonic = "PortableImage",
        progress_message = "Writing the OCI image %{label}",
        env = {"SOURCE_DATE_EPOCH": "0"},
    )
    return [
        DefaultInfo(files = depset([out])),
        OutputGroupInfo(layer = depset([layer])),
    ]

portable_image = rule(
    implementation = _portable_image_impl,
    doc = """An OCI image of a `portable_binary`: one layer holding the bundle under
`prefix`, a config whose Entrypoint is the bundle's `bin/<entrypoint>`, the
bundle's architecture, and nothing else in the image's root. Digests are
deterministic.

The output is an OCI image layout directory `<name>` (`format = "layout"`)
or the same layout as `<name>.tar` with docker's `manifest.json` too
(`format = "tar"`: `docker load -i` and `skopeo copy oci-archive:` read
it). The output group `layer` is the layer alone (`<name>.layer.tar.gz`),
for rules_oci: `oci_image(base = ..., tars = [":image_layer"])` with a
`filegroup(name = "image_layer", srcs = [":image"], output_group = "layer")`.

Example:

```starlark
portable_image(
    name = "image",
    bundle = ":portable",
)
```""",
    attrs = {
        "bundle": attr.label(
            doc = "The `portable_binary` to put in the image. Example: `\":portable\"`.",
            mandatory = True,
            providers = [PortableBundleInfo],
        ),
        "entrypoint": attr.string(
            doc = "The program under the bundle's `bin/` the image runs. Default: the bundle's binary. Example: `entrypoint = \"hello\"`.",
        ),
        "prefix": attr.string(
            doc = "Where the bundle sits in the image. Default: `/opt/<binary name>`. Example: `prefix = \"/app\"`.",
        ),
        "tag": attr.string(
            doc = "The image's name and tag in its index (and in docker's manifest.json). Default: `<binary name>:latest`. Example: `tag = \"hello:1.0\"`.",
        ),
        "format": attr.string(
            doc = "`layout` (the default): an OCI image layout directory. `tar`: the layout as a tar, with docker's manifest.json. Example: `format = \"tar\"`.",
            default = "layout",
            values = ["layout", "tar"],
        ),
    },
    toolchains = [TOOLCHAIN_TYPE],
)
