#!/usr/bin/python3
"""Converts a StyleGAN2 checkpoint into a facemix model (.safetensors).

usage: /usr/bin/python3 scripts/convert_weights.py INPUT -o OUTPUT.safetensors
                                                  [--network G_ema|G] [-y]
       /usr/bin/python3 scripts/convert_weights.py INPUT --info

Inputs (recognised by content, not by extension):
  - NVIDIA PyTorch network pickles (stylegan2-ada-pytorch, and the StyleGAN2
    pickles of the stylegan3 release),
  - NVIDIA TensorFlow StyleGAN2 pickles (e.g. stylegan2-ffhq-config-f.pkl),
  - rosinality stylegan2-pytorch checkpoints (.pt, zip or legacy torch.save);
and, into a facemix identity model (format facemix-identity):
  - face-api's face recognition weights: the tfjs manifest
    face_recognition_model-weights_manifest.json, with its .bin shard beside it.
No code from the input is ever run: pickles are read by a restricted
unpickler that only rebuilds the globals listed in facemix_convert/allowlist.py.
Needs numpy only (Debian: apt-get install python3-numpy; python3-torch pulls it in).

Exit codes: 0 ok, 2 usage, 4 file cannot be read/written, 5 unsupported or
malformed checkpoint, 130 interrupted. Errors are one line on stderr:
  convert_weights.py: error: <file>: <problem>
"""

import argparse
import contextlib
import os
import sys

PROG = "convert_weights.py"

try:
    import numpy as np
except ImportError:
    sys.stderr.write(f"{PROG}: error: numpy is not installed for {sys.executable}; run the script "
                     "with /usr/bin/python3 (Debian: apt-get install python3-numpy python3-torch)\n")
    sys.exit(1)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from facemix_convert import from_faceapi, safetensors_file, stylegan_config as sc  # noqa: E402
from facemix_convert.checkpoint import count_values, load  # noqa: E402
from facemix_convert.errors import (EXIT_INTERRUPTED, ConvertError, IoError, ModelError,  # noqa: E402
                                    UsageError)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_args(argv):
    p = _Parser(prog=PROG, description="Convert a StyleGAN2 checkpoint (NVIDIA PyTorch or "
                "TensorFlow network pickle, rosinality .pt) into a facemix .safetensors model.")
    p.add_argument("input", metavar="INPUT", help="checkpoint to convert")
    p.add_argument("-o", "--output", metavar="OUTPUT", help="facemix model to write (.safetensors)")
    p.add_argument("--network", choices=["G_ema", "G"], default="G_ema",
                   help="generator to convert: G_ema, the weight average used for inference "
                        "(TensorFlow: Gs, rosinality: g_ema), or G, the training snapshot "
                        "(default: %(default)s)")
    p.add_argument("--info", action="store_true",
                   help="print what the file holds (stdout, 'key: value' lines); write nothing")
    p.add_argument("-y", "--yes", action="store_true", help="overwrite OUTPUT if it exists")
    args = p.parse_args(argv)
    if not args.info and not args.output:
        raise UsageError("missing -o OUTPUT (or use --info)")
    if args.info and args.output:
        raise UsageError("--info writes nothing; drop -o")
    return args


def read_input(path):
    try:
        if os.path.isdir(path):
            raise IoError("is a directory", path)
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise IoError("no such file", path) from None
    except OSError as e:
        raise IoError(f"cannot read: {e.strerror or e}", path) from None
    except MemoryError:
        raise IoError("not enough memory to read the file", path) from None


def check_output(output, input_path, overwrite):
    """Refuses before any work: output is the input, a directory, in a missing
    directory, or exists without -y (facemix's prepare_output rules)."""
    out_dir = os.path.dirname(os.path.abspath(output))
    if os.path.exists(output) and os.path.exists(input_path) and os.path.samefile(output, input_path) \
            or os.path.realpath(output) == os.path.realpath(input_path):
        raise IoError("output would overwrite the input file", output)
    if not os.path.isdir(out_dir):
        raise IoError(f"output directory {out_dir} does not exist", output)
    if os.path.isdir(output):
        raise IoError("output is a directory", output)
    if os.path.exists(output) and not overwrite:
        raise IoError("output exists (use -y to overwrite)", output)


def write_model(model, output):
    """Writes to a temporary file in the output's directory, reads it back and
    compares, then renames it over `output`. Nothing is left on failure."""
    import tempfile
    out_dir = os.path.dirname(os.path.abspath(output))
    meta = model.metadata()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=f".{os.path.basename(output)}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            safetensors_file.write(f, model.tensors, meta)
            f.flush()
            os.fsync(f.fileno())
        with open(tmp, "rb") as f:
            back_meta, back = safetensors_file.read(f.read())
        if back_meta != meta or list(back) != list(model.tensors) or not all(
                np.array_equal(back[k], v) for k, v in model.tensors.items()):
            raise IoError("the written file does not read back identically", output)
        # mkstemp creates 0600; give the model the mode any new file gets here.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, output)
        tmp = None
    except OSError as e:
        raise IoError(f"cannot write: {e.strerror or e}", output) from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def print_info(path, ckpt, model_or_error):
    lines = [f"file: {path}", f"format: {ckpt.format_name}", f"container: {ckpt.container}"]
    top = ckpt.top
    nets = ckpt.networks()
    if isinstance(top, dict):
        counts = [f"{n} ({count_values(top[n]):,} values)" for n in nets if n in top]
    elif isinstance(top, (tuple, list)):
        counts = [f"{n} ({count_values(v):,} values)" for n, v in zip(nets, top)]
    else:
        counts = nets
    lines.append("networks: " + (", ".join(counts) or "none"))
    m = model_or_error
    if isinstance(m, ConvertError):
        print("\n".join(lines))
        return
    cfg = m.config
    s = cfg["synthesis_kwargs"]
    lines += [
        f"generator: {m.network}",
        f"resolution: {cfg['img_resolution']}",
        f"z_dim: {cfg['z_dim']}",
        f"w_dim: {cfg['w_dim']}",
        f"num_ws: {sc.num_ws(cfg)}",
        f"mapping_layers: {cfg['mapping_kwargs']['num_layers']}",
        "channels: " + " ".join(f"{r}:{sc.channels(cfg, r)}" for r in sc.block_resolutions(cfg)),
        f"channel_base: {s['channel_base']}",
        f"channel_max: {s['channel_max']}",
        f"parameters: {sc.parameter_count(cfg)}",
        f"buffer_values: {sc.value_count(cfg) - sc.parameter_count(cfg)}",
        f"w_avg: {m.w_avg_source}",
        f"output_bytes: {safetensors_file.file_size(m.tensors, m.metadata())}",
        f"config: {sc.config_json(cfg)}",
    ]
    print("\n".join(lines))


@contextlib.contextmanager
def _malformed_as_model_error():
    """A checkpoint whose structure surprises a converter (a value of an
    unexpected type somewhere) is reported as malformed, not as a traceback."""
    try:
        yield
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as e:
        raise ModelError(f"malformed or unsupported checkpoint ({type(e).__name__}: {e})") from None


def run_identity(args, data):
    """face-api's tfjs manifest -> facemix identity model."""
    with _malformed_as_model_error():
        model = from_faceapi.convert(args.input, data)
    if args.info:
        count = sum(int(np.prod(v.shape)) for v in model.tensors.values())
        print("\n".join([f"file: {args.input}", f"format: {from_faceapi.KIND}",
                         f"network: {model.network}", f"tensors: {len(model.tensors)}",
                         f"parameters: {count}",
                         f"output_bytes: {safetensors_file.file_size(model.tensors, model.metadata())}"]))
        return
    write_model(model, args.output)
    print(f"{PROG}: {args.input}: {from_faceapi.KIND} -> {args.output}: identity model, "
          f"{len(model.tensors)} tensors", file=sys.stderr)


def run(args):
    if args.output:
        check_output(args.output, args.input, args.yes)
    data = read_input(args.input)
    if from_faceapi.is_manifest(data):
        return run_identity(args, data)
    with _malformed_as_model_error():
        ckpt = load(data)
    del data
    try:
        with _malformed_as_model_error():
            model = ckpt.convert(args.network)
    except ConvertError as e:
        if args.info:
            print_info(args.input, ckpt, e)
        raise
    for w in model.warnings:
        print(f"{PROG}: warning: {args.input}: {w}", file=sys.stderr)
    if args.info:
        print_info(args.input, ckpt, model)
        return
    write_model(model, args.output)
    cfg = model.config
    print(f"{PROG}: {args.input}: {ckpt.format_name}, {model.network} -> {args.output}: "
          f"{cfg['img_resolution']}px, num_ws {sc.num_ws(cfg)}, "
          f"{sc.parameter_count(cfg):,} parameters; w_avg {model.w_avg_source}", file=sys.stderr)


def main(argv=None):
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
    except UsageError as e:
        print(f"{PROG}: error: {e.problem} (see --help)", file=sys.stderr)
        return e.exit_code
    try:
        run(args)
    except ConvertError as e:
        print(f"{PROG}: error: {e.path or args.input}: {e.problem}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


if __name__ == "__main__":
    sys.exit(main())
