"""`python -m drafting …`: a thin command line over the library.

Each sub-command parses its arguments and calls one library function; no logic lives here.
Exit codes: 0 success, 1 a check failed, 2 bad input or an unavailable service.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drafting.flow.request import PERIODS, RequestError
from drafting.store.accounts import AccountError


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _fail(message: str, code: int = 2) -> int:
    sys.stderr.write(f"错误：{message}\n")
    return code


def cmd_check(args: argparse.Namespace) -> int:
    from drafting import service
    from drafting.flow.request import parse_facts_text
    from drafting.text import decode_bytes

    try:
        facts_text = decode_bytes(Path(args.facts).read_bytes())
        draft_text = decode_bytes(Path(args.draft).read_bytes())
    except OSError as exc:
        return _fail(f"读不到文件：{exc.filename}")
    facts = [f for s in parse_facts_text(facts_text) for f in s.facts]
    report = service.check(draft_text, facts, args.org, args.period, args.year)
    if args.json:
        _print_json(report.to_dict())
    else:
        sys.stdout.write(report.summary_zh() + "\n")
    return 0 if report.ok else 1


def cmd_draft(args: argparse.Namespace) -> int:
    from drafting import service
    from drafting.flow.events import Delta, Event, Queued, SectionStarted
    from drafting.text import decode_bytes

    try:
        text = decode_bytes(Path(args.facts).read_bytes())
    except OSError as exc:
        return _fail(f"读不到文件：{exc.filename}")
    options = {"strategy": args.strategy, **({"target_chars": args.length} if args.length else {}),
               **({"derive": True} if args.derive else {})}
    work = service.intake_text(args.org, args.period, args.year, text, options)

    def show_progress(event: Event) -> None:
        if args.quiet:
            return
        if isinstance(event, SectionStarted):
            sys.stderr.write(f"\n[{event.index + 1}/{event.total}] {event.title}\n")
        elif isinstance(event, Delta):
            sys.stderr.write(event.text)
        elif isinstance(event, Queued):
            sys.stderr.write(f"模型正忙，前面还有 {event.ahead} 份草稿在排队……\n")
        sys.stderr.flush()

    try:
        with service.model_turn(show_progress):
            outcome = service.write(work, on_event=show_progress)
    except (service.QueueFull, service.QueueTimeout) as exc:
        return _fail(service.busy_message(exc))
    for note in outcome.notes:
        sys.stderr.write(f"\n注意：{note}\n")
    if not args.quiet:
        sys.stderr.write("\n")
    data = outcome.to_dict(work.ignored)
    output = json.dumps(data, ensure_ascii=False, indent=2) if args.json else outcome.result.text
    if args.out:
        Path(args.out).write_text(output + "\n", encoding="utf-8")
    else:
        sys.stdout.write(output + "\n")
    return 0


def cmd_model(args: argparse.Namespace) -> int:
    from drafting.model import server as model_server

    if args.action == "serve":
        return model_server.serve_forever(port=args.port)
    if args.action == "start":
        server = model_server.ensure_running(port=args.port)
        sys.stdout.write(f"内置模型已就绪：{server.base_url}\n")
        return 0
    if args.action == "stop":
        stopped = model_server.stop(port=args.port)
        sys.stdout.write("已停止内置模型服务。\n" if stopped else "没有正在运行的内置模型服务。\n")
        return 0
    if args.action == "status":
        _print_json(model_server.status(port=args.port))
        return 0
    from drafting.model.assets import ensure_model

    ensure_model(progress=True)
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from drafting import setup

    setup.ensure_all(build_index=not args.no_index)
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from drafting.retrieval import index

    return index.cli(args)


def _read_password() -> str:
    """The password from standard input: typed twice at a terminal, else its first line."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("密码：")
    if getpass.getpass("再输入一次：") != first:
        raise AccountError("两次输入的密码不一致。")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    from drafting.store import get_accounts

    accounts = get_accounts()
    if args.action == "list":
        for user in accounts.list_users():
            role = "管理员" if user.is_admin else "用户"
            sys.stdout.write(f"{user.name}\t{role}\t{accounts.key_count(user.name)} 个有效密钥\n")
        return 0
    if not args.name:
        return _fail(f"users {args.action} 需要用户名。")
    if args.action == "add":
        accounts.add_user(args.name, _read_password(), admin=args.admin)
        sys.stdout.write(f"已添加{'管理员' if args.admin else '用户'} {args.name}。\n")
    elif args.action == "passwd":
        accounts.set_password(args.name, _read_password())
        sys.stdout.write(f"已重设 {args.name} 的密码。\n")
    else:
        accounts.set_admin(args.name, args.action == "admin")
        sys.stdout.write(f"{args.name} 现在是{'管理员' if args.action == 'admin' else '普通用户'}。\n")
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from drafting.store import get_accounts

    if args.action == "create":
        sys.stdout.write(get_accounts().create_key(args.target) + "\n")  # the key alone: scripts read it
        return 0
    if not get_accounts().revoke_key(args.target):
        return _fail("没有这个有效的密钥（可能已经吊销）。")
    sys.stdout.write("已吊销该密钥，此后用它的请求都会得到 401。\n")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from drafting.config import get_settings
    from drafting.store.database import shown_url
    from drafting.store.transfer import copy_history

    target = get_settings().database_url
    try:
        copied = copy_history(args.source, target)
    except ValueError as exc:
        return _fail(str(exc))
    counts = "、".join(f"{copied[name]} {label}" for name, label in
                      (("drafts", "份草稿"), ("inputs", "份自动保存"), ("users", "个账号"), ("api_keys", "个密钥")))
    sys.stdout.write(f"已复制到 {shown_url(target)}：{counts}。\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from drafting.api import app as api

    return api.serve(host=args.host, port=args.port, workers=args.workers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m drafting", description="工会工作总结起草服务")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="核对草稿中的每个数字是否来自要点")
    p.add_argument("--facts", required=True, help="要点文件（每行一条）")
    p.add_argument("--draft", required=True, help="草稿文本文件")
    p.add_argument("--org", help="单位名称（其中的数字视为已提供）")
    p.add_argument("--period", help="总结期间")
    p.add_argument("--year", help="年份")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("draft", help="根据要点生成总结初稿")
    p.add_argument("--facts", required=True)
    p.add_argument("--org", required=True)
    p.add_argument("--period", required=True, help="如：" + "、".join(PERIODS[:4]))
    p.add_argument("--year")
    p.add_argument("--strategy", choices=("sectioned", "whole"), default="sectioned")
    p.add_argument("--length", type=int, help="目标字数")
    p.add_argument("--derive", action="store_true", help="由系统计算同比增减和占比（不让模型计算）")
    p.add_argument("--json", action="store_true")
    p.add_argument("--out")
    p.add_argument("--quiet", action="store_true", help="不在标准错误输出进度")
    p.set_defaults(func=cmd_draft)

    p = sub.add_parser("model", help="内置模型：serve（前台运行）/ start / stop / status / fetch")
    p.add_argument("action", choices=("serve", "start", "stop", "status", "fetch"))
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(func=cmd_model)

    p = sub.add_parser("setup", help="准备模型、分词缓存与检索索引（可重复运行）")
    p.add_argument("--no-index", action="store_true")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("index", help="检索索引：build / status / add FILES…")
    p.add_argument("action", choices=("build", "status", "add"))
    p.add_argument("files", nargs="*")
    p.add_argument("--force", action="store_true", help="build：全部重建")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("users", help="账号：add NAME [--admin]（密码从标准输入读）/ passwd NAME / admin NAME / "
                                     "unadmin NAME / list")
    p.add_argument("action", choices=("add", "passwd", "admin", "unadmin", "list"))
    p.add_argument("name", nargs="?")
    p.add_argument("--admin", action="store_true", help="add：设为管理员（可查看全单位的草稿）")
    p.set_defaults(func=cmd_users)

    p = sub.add_parser("keys", help="API 密钥：create NAME（打印新密钥）/ revoke KEY")
    p.add_argument("action", choices=("create", "revoke"))
    p.add_argument("target", help="create：用户名；revoke：密钥")
    p.set_defaults(func=cmd_keys)

    p = sub.add_parser("db", help="数据库：copy SOURCE 把另一个数据库（如原来的 SQLite 文件）的全部草稿、"
                                  "自动保存、账号和密钥复制到当前配置的数据库（DRAFTING_DATABASE_URL）")
    p.add_argument("action", choices=("copy",))
    p.add_argument("source", help="源数据库：SQLite 文件路径，或 postgresql://… 地址")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("serve", help="HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="工作进程数（/v1/check 吞吐随之提高；模型仍一次只写一份）")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (RequestError, AccountError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("已中断。", 130)
