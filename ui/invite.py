"""Invite the room: publish the chosen model's room page (ui/room_site.py) and show the address
phones open, large and as a QR code, with the projector view and the room as a zip to host anywhere."""

from __future__ import annotations

import functools
import html
import io
import ipaddress
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import streamlit as st

import vae_core as vc
from ui.room_site import publish, save_invite
from ui.state import ModelEntry, class_model

# the address in large type, readable from the back of a hall when the dialog is projected
ADDRESS_STYLE = "font-size: clamp(1.5rem, 3.2vw, 2.6rem); font-weight: 700; word-break: break-all; line-height: 1.2"


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` names this machine only (phones cannot reach it)."""
    if not host:
        return False
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: the lecturer's browser reached it, so can phones on that network
    return address.is_loopback or address.is_unspecified


def room_address(browser_url: str | None, network_ip: str | None, listen_address: str | None,
                 port: int) -> tuple[str, str | None]:
    """(the room's address for phones, None) or (the best address known, why phones cannot use it).

    The address the lecturer's browser used when it is a network address; else this machine's
    network address (``network_ip``, as Streamlit's "Network URL" finds it)."""
    parts = urlsplit(browser_url) if browser_url else None
    if parts is not None and parts.hostname and not is_loopback(parts.hostname):
        return f"{parts.scheme}://{parts.netloc}/room", None
    local = f"http://localhost:{port}/room"
    if listen_address and is_loopback(listen_address):
        return local, (f"The app listens on this computer only ({listen_address}), so phones cannot reach it: "
                       "start it with --server.address 0.0.0.0 and invite the room again.")
    if network_ip and not is_loopback(network_ip):
        return f"http://{network_ip}:{port}/room", None
    return local, ("Only a local address is known: this computer has no network address that phones could reach, "
                   "so the room opens on this computer alone. Join the room's network and invite the room again.")


def current_room_address() -> tuple[str, str | None]:
    """room_address for this visitor's browser and this server."""
    from streamlit import net_util

    return room_address(st.context.url, net_util.get_internal_ip(), st.get_option("server.address"),
                        int(st.get_option("server.port")))


@st.cache_resource(show_spinner="Preparing the room page…", max_entries=16)
def room_files(_ckpt: vc.Checkpoint, _conditional: vc.Checkpoint | None, entry_id: str, title: str):
    """The entry's room files (vae_core.build_room), or the sentence saying why it has none."""
    try:
        return vc.build_room(_ckpt, _conditional, title=title)
    except vc.VAEError as e:
        return str(e)


@st.cache_data(show_spinner=False, max_entries=8)
def room_zip(_files, room_id: str) -> bytes:
    """The room as a folder in a zip: the same page, for any static web server."""
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / f"vae-room-{room_id}"
        vc.write_room(_files, folder, site=True)
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder.parent).as_posix())
    return buffer.getvalue()


@functools.lru_cache(maxsize=8)
def qr_code(address: str):
    """The address as a QR code (segno), made once for both of its pictures."""
    import segno

    return segno.make(address, error="m")


def qr_png(address: str) -> bytes:
    buffer = io.BytesIO()
    qr_code(address).save(buffer, kind="png", scale=10, border=2)
    return buffer.getvalue()


def qr_data_uri(address: str) -> str:
    return qr_code(address).svg_data_uri(scale=10, border=2)


def invite(entry: ModelEntry, address: str) -> tuple[str, object] | str:
    """Publish ``entry``'s room, make it the one /room shows and leave the projector its
    invitation: (room id, the room's files), or the one sentence saying why it cannot be (then
    nothing is published)."""
    class_entry = class_model(entry)
    conditional = class_entry.ckpt if class_entry.ckpt.config.num_classes else None
    files = room_files(entry.ckpt, conditional, entry.id, entry.label)
    if isinstance(files, str):
        return files
    room_id = publish(files)
    save_invite(address, qr_data_uri(address), room_id)
    return room_id, files


@st.dialog("Invite the room", width="large")
def invite_dialog(entry: ModelEntry) -> None:
    address, problem = current_room_address()
    invited = invite(entry, address)
    if isinstance(invited, str):
        st.error(invited)
        return
    room_id, files = invited
    qr, text = st.columns([2, 3], vertical_alignment="center")
    qr.image(qr_png(address), caption="Scan to open the room", width="stretch")
    with text:
        st.markdown(f"Open on your phone:\n\n<p class='vx-room-address' style='{ADDRESS_STYLE}'>{html.escape(address)}</p>",
                    unsafe_allow_html=True)
        st.caption(f"Everyone explores **{entry.label}** in their own browser: the server only sends the page "
                   "(about 1 MB), so a whole hall can join at once. This model also keeps its own address: "
                   f"`/room/{room_id}`.")
        if problem:
            st.warning(problem)
        st.link_button("Projector view", "/room/projector", icon=":material/present_to_all:",
                       help="The plane and this QR code, large, without the sidebar: for the screen at the front")
        st.download_button("Download the room (zip)", room_zip(files, room_id), file_name=f"vae-room-{room_id}.zip",
                           mime="application/zip", on_click="ignore", icon=":material/folder_zip:",
                           help="The same room page as a folder: any static web server hosts it, "
                                "with no Python (try `python -m http.server` in it)")


def invite_button(entry: ModelEntry) -> None:
    """The sidebar's "Invite the room" (it publishes only when pressed)."""
    if st.button("Invite the room", icon=":material/qr_code_2:", key="invite_room", width="stretch",
                 help="A QR code and an address that phones open to explore this model, with nothing to install"):
        invite_dialog(entry)
