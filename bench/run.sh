#!/usr/bin/env bash
# The speed benchmark in one command: builds bench/Bench (with libtorch through TorchSharp and
# ONNX Runtime from NuGet), makes TorchSharp loadable on this libstdc++, and runs it.
#
#   bash bench/run.sh --quick              # every workload, short time boxes (< 3 minutes once built)
#   bash bench/run.sh                      # the full run: kernel workloads, then whole models; results + README
#   bash bench/run.sh --filter a,b,f1      # some workloads (results-partial.{md,csv})
#   bash bench/run.sh --models             # the whole-model table only (torchvision models; < 10 minutes)
#   bash bench/run.sh --models --filter resnet18,resnet50 --no-cold
#   bash bench/run.sh --micro              # the BenchmarkDotNet micro-benchmarks instead (bench/Micro)
#
# Needs the .NET 10 SDK, python3 and g++ (installed with apt-get when missing and run as root).
# The resnet18 workload's ONNX model is exported from torchvision into bench/.artifacts/ when
# missing or stale (bench/models/export_resnet18.py), with Debian's PyTorch at /usr/bin/python3
# (python3-torch, python3-torchvision, python3-numpy: installed with apt-get when missing and run
# as root); without them that workload is skipped, with a message, and the rest runs.
set -euo pipefail

bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$bench")"
art="$bench/.artifacts"   # own bin/ and obj/ for every project built here, src/ included
cd "$root"

if [[ "${1:-}" == "--micro" ]]; then
  shift
  dotnet build bench/Micro/Micro.csproj -c Release --artifacts-path "$art" -nologo -v q
  exec dotnet "$art/bin/Micro/release/Micro.dll" "$@"
fi

for tool in python3 g++; do
  if ! command -v "$tool" >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
      apt-get update -qq && apt-get install -y -qq python3 g++ >/dev/null
    else
      echo "bench/run.sh needs $tool" >&2; exit 1
    fi
  fi
done

dotnet build bench/Bench/Bench.csproj -c Release --artifacts-path "$art" -nologo -v q
out="$art/bin/Bench/release"

# TorchSharp 0.107.0's libLibTorchSharp.so asks libstdc++ for GLIBCXX_3.4.32 (GCC 13) for one
# no-op symbol. Where the system's libstdc++ is older (Debian 12 stops at 3.4.30), mark that
# requirement weak in the build output's copy (never the NuGet cache) and preload a library
# that defines the symbol under that version. See bench/tools/.
# (awk reads to the end: an early exit would SIGPIPE ldconfig, fatal under pipefail)
libstdcxx="$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !found { print $NF; found = 1 }')"
if [[ -n "$libstdcxx" ]] && ! grep -q GLIBCXX_3.4.32 "$libstdcxx"; then
  python3 bench/tools/weaken_glibcxx.py "$out/runtimes/linux-x64/native/libLibTorchSharp.so"
  shim="$art/shim/libglibcxx_3_4_32_shim.so"
  if [[ ! -f "$shim" || bench/tools/glibcxx_shim.cpp -nt "$shim" || bench/tools/glibcxx_shim.map -nt "$shim" ]]; then
    mkdir -p "$(dirname "$shim")"
    g++ -shared -fPIC -O2 -o "$shim" bench/tools/glibcxx_shim.cpp -Wl,--version-script=bench/tools/glibcxx_shim.map
  fi
  export LD_PRELOAD="$shim${LD_PRELOAD:+:$LD_PRELOAD}"
fi

# glibc malloc returns every large block (above a dynamic threshold, from 128 KiB) to the
# kernel on free, so libtorch's multi-MB output of each call comes back as fresh pages that
# page-fault on first touch. Raising the mmap threshold to its maximum (32 MiB) and the trim
# threshold keeps such blocks in the heap for the next call. This helps libtorch (and ORT's
# session set-up); Functional's tensors come from the .NET GC and do not go through malloc.
export GLIBC_TUNABLES="glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824${GLIBC_TUNABLES:+:$GLIBC_TUNABLES}"

# ResNet-18's 46 MB of weights are not committed: its ONNX model is exported into bench/.artifacts/
# with weights generated from the recipe in the parity case (the benchmark generates the same
# ones in C# for Functional and libtorch). Not needed when --filter leaves resnet18 out.
want_resnet18=1
args=("$@")
for ((i = 0; i + 1 < ${#args[@]}; i++)); do
  if [[ "${args[i]}" == --filter && ",${args[i + 1]// /}," != *,resnet18,* ]]; then want_resnet18=0; fi
done
resnet18_onnx="$art/resnet18.onnx"
resnet18_case=tests/Parity/cases/models/resnet18_torchvision.safetensors
if (( want_resnet18 )) && [[ ! -f "$resnet18_onnx" || bench/models/export_resnet18.py -nt "$resnet18_onnx" || "$resnet18_case" -nt "$resnet18_onnx" ]]; then
  has_torch() { [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import numpy, torch, torchvision' 2>/dev/null; }
  if ! has_torch && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "bench/run.sh: installing python3-torch python3-torchvision python3-numpy to export resnet18.onnx" >&2
    { apt-get update -qq && apt-get install -y -qq python3-torch python3-torchvision python3-numpy >/dev/null; } || true
  fi
  if has_torch; then
    /usr/bin/python3 bench/models/export_resnet18.py "$resnet18_onnx"
  elif [[ -f "$resnet18_onnx" ]]; then
    echo "bench/run.sh: no PyTorch with torchvision at /usr/bin/python3: keeping the older bench/.artifacts/resnet18.onnx" >&2
  else
    echo "bench/run.sh: no PyTorch with torchvision at /usr/bin/python3 (apt-get install python3-torch python3-torchvision python3-numpy): the resnet18 workload will be skipped" >&2
  fi
fi

# The whole-model table's models (torchvision, random weights) are written at benchmark time into
# bench/.artifacts/zoo (gitignored): .safetensors by tools/export.py, .onnx and TorchScript .pt for
# the peers (bench/models/export_zoo.py keeps files newer than itself and tools/export.py).
# Needed by --models and by the full run (no --quick, no --filter).
want_models=1
for a in "$@"; do [[ "$a" == --quick || "$a" == --filter ]] && want_models=0; done
for a in "$@"; do [[ "$a" == --models ]] && want_models=1; done
if (( want_models )); then
  if [[ -x /usr/bin/python3 ]] && /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null; then
    only=()
    for ((i = 0; i + 1 < ${#args[@]}; i++)); do [[ "${args[i]}" == --filter ]] && only=(--only "${args[i + 1]}"); done
    /usr/bin/python3 bench/models/export_zoo.py "$art/zoo" "${only[@]}" 2>&1 | grep -v -i -e warning -e '^  ' || true
  else
    echo "bench/run.sh: no PyTorch with torchvision at /usr/bin/python3: the whole-model table needs it (apt-get install python3-torch python3-torchvision)" >&2
  fi
fi

exec dotnet "$out/Bench.dll" "$@"
