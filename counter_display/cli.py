"""``motcua`` subcommands of the counter_display package (see ``motcua_cli.main.COMMAND_MODULES``).

motcua say --ticket A1023 --counter 5 [--site FILE] [--recall] (--text | --wav OUT.wav | play)
motcua hall --site FILE [--broker URL] [--no-voice]       the hall board window with its voice
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``say`` and ``hall``."""
    say = sub.add_parser("say", help="announce a call in Vietnamese (print it, write a WAV, or play it)")
    say.add_argument("--ticket", required=True, help="ticket number, e.g. A1023")
    say.add_argument("--counter", required=True, type=int, help="counter number, e.g. 5")
    say.add_argument("--counter-name", help="how the counter is called (default: the site's name)")
    say.add_argument("--site", type=Path, help="site file whose [display.voice] to use")
    say.add_argument("--recall", action="store_true", help="use the recall sentence")
    say.add_argument("--engine", choices=["espeak", "clips"], help="override the site's engine")
    say.add_argument("--clips", type=Path, help="folder of recorded words for the clips engine")
    out = say.add_mutually_exclusive_group()
    out.add_argument("--text", action="store_true", help="print the sentence and stop")
    out.add_argument("--wav", type=Path, help="write the whole announcement to this WAV file")
    say.set_defaults(run=run_say)

    hall = sub.add_parser("hall", help="the hall board window (calls, queues, notice) with its voice")
    hall.add_argument("--site", type=Path, required=True)
    hall.add_argument("--broker", help="broker URL (default: the site file's)")
    hall.add_argument("--no-voice", action="store_true", help="show calls without announcing them")
    hall.add_argument(
        "--board",
        type=int,
        default=1,
        help="which hall screen this is, 1 to [display.hall] boards (its login)",
    )
    hall.set_defaults(run=run_hall)


def _voice_conf(args: argparse.Namespace) -> tuple[Any, Any]:
    """The voice settings (site file's or defaults, with overrides) and the site, if one was given."""
    from siteconf import load_site
    from siteconf.display import VoiceConf

    site = load_site(args.site) if args.site else None
    conf = site.voice_conf() if site else VoiceConf()
    updates: dict[str, Any] = {}
    if args.engine:
        updates["engine"] = args.engine
    if args.clips:
        updates["clips"] = str(args.clips)
        updates.setdefault("engine", "clips")
    return (VoiceConf.model_validate({**conf.model_dump(), **updates}) if updates else conf), site


def run_say(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from counter_display.voice.announcer import Announcement, Announcer, make_engine, render, sentence
    from counter_display.voice.audio import AudioError
    from counter_display.voice.engines import VoiceError
    from siteconf import SiteFileError

    try:
        conf, site = _voice_conf(args)
        name = args.counter_name
        if name is None and site is not None:
            name = next((c.name for c in site.counters if c.number == args.counter), None)
        call = Announcement(args.ticket, args.counter, name, recall=args.recall)
        if args.text:
            print(sentence(conf, call))
            return 0
        base = args.site.parent if args.site else None
        engine = make_engine(conf, base)
        if args.wav:
            render(conf, call, engine).save(args.wav)
            print(f"wrote {args.wav}")
            return 0
        announcer = Announcer(conf, engine)
        announcer.announce(call)
        announcer.wait_idle()
        announcer.stop()
        return 0 if announcer.failed == 0 else 1
    except (ValueError, VoiceError, AudioError, SiteFileError, ValidationError, OSError) as err:
        print(f"motcua say: {err}", file=sys.stderr)
        return 2


def run_hall(args: argparse.Namespace) -> int:
    from counter_display.hall import run_hall_window

    return run_hall_window(args.site, args.broker, voice=not args.no_voice, board=args.board)
