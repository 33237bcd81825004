#!/usr/bin/env bash
# Packs Functional and Functional.Kernels (after the solution's Release build), then builds and runs
# a fresh console app outside the solution that uses only those packages, from a local feed and its
# own NuGet cache, published with Native AOT (trimming/AOT warnings are errors): it classifies
# samples/Classify/sample.ppm through Resize >> CenterCrop >> Normalize >> model and checks
# PyTorch's top-5. A broken package fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' src/Directory.Build.props)

dotnet pack Functional.sln -c Release --no-build -o "$work/feed" --nologo -v quiet
for p in Functional Functional.Kernels; do
  for ext in nupkg snupkg; do
    [ -f "$work/feed/$p.$version.$ext" ] || { echo "consumer: $p.$version.$ext was not packed" >&2; exit 1; }
  done
done

mkdir "$work/app"
cat > "$work/app/nuget.config" <<XML
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
cat > "$work/app/App.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>enable</Nullable>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <PublishAot>true</PublishAot>
    <InvariantGlobalization>true</InvariantGlobalization>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Functional" Version="$version" />
  </ItemGroup>
</Project>
XML
cp samples/Classify/*.cs "$work/app/"
export NUGET_PACKAGES="$work/packages"
dotnet publish "$work/app" -c Release -o "$work/out" --nologo -v quiet
"$work/out/App" \
  "$repo/samples/Classify/tiny_classifier.safetensors" "$repo/samples/Classify/sample.ppm" \
  --labels "$repo/samples/Classify/imagenet_classes.txt" --expect "$repo/samples/Classify/expected.txt"
