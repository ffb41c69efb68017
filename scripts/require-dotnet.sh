#!/usr/bin/env bash
# Stops the calling script with a clear message when the .NET SDK is missing:  scripts/require-dotnet.sh <caller name>
if ! command -v dotnet >/dev/null; then
  echo "${1:-lenta}: 'dotnet' not found. Install the .NET 10 SDK (https://dotnet.microsoft.com/download);" \
       "Debian 12 has no package for it." >&2
  exit 1
fi
