#!/bin/sh
# Put ChatServer and ChatClient in the desktop's menu, for this user (no root needed):
# the programs in ~/.local/bin, the icon in the hicolor theme, two .desktop entries.
#
#   sh packaging/install-desktop.sh [DIST]     DIST holds the built programs (default: dist)
#   sh packaging/install-desktop.sh --uninstall
#
# Build first:  pyinstaller --noconfirm build.spec
set -eu
here=$(cd "$(dirname "$0")" && pwd)
assets="$here/../chatui/assets"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
bin="$HOME/.local/bin"
apps="$data/applications"
icons="$data/icons/hicolor"
sizes="16 32 48 64 128 256"

refresh() {
  if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q "$apps" || true; fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t "$icons" || true; fi
}

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$bin/ChatServer" "$bin/ChatClient" "$apps/chatserver.desktop" "$apps/chatclient.desktop"
  for s in $sizes; do rm -f "$icons/${s}x${s}/apps/lanchat.png"; done
  refresh
  echo "LAN Chat removed from the menu."
  exit 0
fi

dist="${1:-dist}"
for prog in ChatServer ChatClient; do
  if [ ! -f "$dist/$prog" ]; then
    echo "No $dist/$prog. Build it first: pyinstaller --noconfirm build.spec" >&2
    exit 1
  fi
done
mkdir -p "$bin" "$apps"
for prog in ChatServer ChatClient; do
  install -m 755 "$dist/$prog" "$bin/$prog"
done
for s in $sizes; do
  mkdir -p "$icons/${s}x${s}/apps"
  install -m 644 "$assets/icon-$s.png" "$icons/${s}x${s}/apps/lanchat.png"
done
# Exec= with the full path: ~/.local/bin is not on every desktop session's PATH.
for name in chatserver chatclient; do
  prog=$(sed -n 's/^Exec=//p' "$here/$name.desktop")
  sed "s|^Exec=.*|Exec=$bin/$prog|" "$here/$name.desktop" > "$apps/$name.desktop"
  chmod 644 "$apps/$name.desktop"
done
refresh
echo "LAN Chat and LAN Chat Server are in the menu (programs in $bin)."
