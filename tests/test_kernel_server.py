"""The kernel fork server (hcc_utils/pipeline/kernel_server.py): forked kernels behave like kernels started the
usual way (their own folder, environment, process; interrupts; no kernel outlives its launcher or the run), and a
notebook executed through it gives the same outputs."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from hcc_utils.pipeline import kernel_server
from hcc_utils.pipeline.execute import NotebookTask, execute_notebook
from hcc_utils.pipeline.kernels import forked_kernel_command, kernel_manager_class
from hcc_utils.pipeline.kernel_server import KernelForkServer, notebook_imports

pytestmark = pytest.mark.skipif(not kernel_server.enabled(), reason="the fork server runs on Linux only, not in portable "
                                                                  "mode (hcc_utils.config.platforms)")


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_notebook_imports_lists_the_packages_libraries_only(tmp_path):
    nb = _notebook(tmp_path / "a.ipynb", "import pandas as pd\nfrom hcc_utils.report import figures\n"
                   "import my_local_module\nfrom . import sibling\n%matplotlib inline",
                   "import numpy, os\nfrom scipy.stats import norm\nimport pandas")
    assert notebook_imports([nb]) == ["pandas", "hcc_utils.report", "numpy", "scipy.stats"]  # magics ignored
    _notebook(tmp_path / "b.ipynb", "import numpy, os\nfrom scipy.stats import norm")
    assert notebook_imports([nb, tmp_path / "b.ipynb", tmp_path / "missing.ipynb"]) == [
        "pandas", "hcc_utils.report", "numpy", "scipy.stats"]


def test_kernel_command_is_rewritten_only_for_an_ipykernel_with_a_server(monkeypatch, tmp_path):
    command = ["/usr/bin/python3", "-m", "ipykernel_launcher", "-f", "/tmp/k.json"]
    monkeypatch.delenv(kernel_server.SERVER_ENV, raising=False)
    assert forked_kernel_command(command) == command
    server = tmp_path / "s"
    server.touch()
    monkeypatch.setenv(kernel_server.SERVER_ENV, str(server))
    assert forked_kernel_command(command) == ["/usr/bin/python3", "-I", "-S", str(kernel_server.LAUNCHER),
                                              str(server), "/usr/bin/python3", "-f", "/tmp/k.json"]
    assert forked_kernel_command(["R", "--slave", "-f", "x"]) == ["R", "--slave", "-f", "x"]
    monkeypatch.setenv(kernel_server.SWITCH_ENV, "0")
    assert forked_kernel_command(command) == command


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead
        return stat.read().split(") ")[1][0] != "Z"


def _wait_dead(pid: int, seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


async def _kernel_session(tmp_path: Path):
    """Start a kernel through the server, check what it sees, interrupt it, then kill its launcher."""
    manager = kernel_manager_class()(kernel_name="python3")
    await manager.start_kernel(cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)

    async def run(code: str, expressions: dict | None = None) -> dict:
        msg_id = client.execute(code, user_expressions=expressions or {})
        while True:
            reply = await client.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]

    seen = await run("import os, sys, signal", {
        "pid": "os.getpid()", "cwd": "os.getcwd()", "marker": "os.environ.get('HCC_TEST_MARKER')",
        "preloaded": "'hcc_utils.stats.cox' in sys.modules", "sigint": "signal.getsignal(signal.SIGINT) is not None",
        "cwd_on_path": "'' in sys.path"})
    values = {k: v["data"]["text/plain"] for k, v in seen["user_expressions"].items()}
    started = time.monotonic()
    msg_id = client.execute("import time\ntime.sleep(60)")
    await asyncio.sleep(1.0)
    await manager.interrupt_kernel()
    while True:
        reply = await client.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    interrupted = (reply["content"]["status"], reply["content"].get("ename"), time.monotonic() - started)
    launcher = manager.provisioner.process.pid
    client.stop_channels()
    os.kill(launcher, signal.SIGKILL)  # what the manager does to a kernel that does not shut down
    await manager.shutdown_kernel(now=True)
    return values, interrupted


def test_forked_kernel_has_its_own_folder_environment_and_process_and_is_interruptible(tmp_path, monkeypatch):
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.delenv("HCC_TEST_MARKER", raising=False)
    with KernelForkServer(["hcc_utils.stats.cox"]) as server:
        monkeypatch.setenv("HCC_TEST_MARKER", "set after the server started")
        # in a thread of its own: another test of this worker may keep an event loop running here (Playwright)
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            values, interrupted = thread.submit(asyncio.run, _kernel_session(folder)).result()
        kernel = int(values["pid"])
        assert kernel not in (os.getpid(), server.process.pid)
        assert values["cwd"] == repr(str(folder))
        assert values["marker"] == repr("set after the server started")  # the launcher's environment
        assert values["preloaded"] == "True"                                # imported by the server in advance
        assert values["cwd_on_path"] == "True"                              # as IPython puts it
        assert interrupted[:2] == ("error", "KeyboardInterrupt") and interrupted[2] < 20
        assert _wait_dead(kernel), "the kernel outlived its killed launcher"
        process = server.process
    assert process.poll() is not None, "the server outlived its run"
    assert not Path(os.environ.get(kernel_server.SERVER_ENV, "/nonexistent")).exists()


def test_notebook_executed_through_the_server_matches_a_usual_kernel(tmp_path, monkeypatch):
    source = _notebook(tmp_path / "nb.ipynb", "output_dir = None",
                       "import numpy as np\nimport pandas as pd\n"
                       "print(pd.DataFrame({'x': np.arange(4) ** 2}).to_string())",
                       "import matplotlib.pyplot as plt\nfig, ax = plt.subplots(figsize=(2, 2))\n"
                       "ax.plot([0, 1], [1, 0]); plt.show()",
                       "import os, sys\nprint(os.path.basename(os.getcwd()))\nprint(sys.path)")
    nb = json.loads(source.read_text())
    nb["cells"][0]["metadata"]["tags"] = ["parameters"]
    source.write_text(json.dumps(nb))

    def outputs(staging: Path) -> list:
        executed = nbformat.read(staging / "executed" / "nb.ipynb", as_version=4)
        return [[{k: v for k, v in o.items() if k != "execution_count"} for o in c.get("outputs", [])]
                for c in executed.cells if c.cell_type == "code"]

    task = NotebookTask("nb.ipynb", 1)
    monkeypatch.setenv(kernel_server.SWITCH_ENV, "0")
    execute_notebook(task, tmp_path, tmp_path / "usual", {})
    monkeypatch.delenv(kernel_server.SWITCH_ENV)
    with KernelForkServer(notebook_imports([source])):
        execute_notebook(task, tmp_path, tmp_path / "forked", {})
    usual, forked = outputs(tmp_path / "usual"), outputs(tmp_path / "forked")
    assert forked == usual
    # (cell 1 is papermill's parameters) the inline backend drew the figure; the notebook's folder is current
    assert any("image/png" in o.get("data", {}) for o in forked[3])
    assert forked[4][0]["text"].startswith(f"{tmp_path.name}\n[")


_ORPHANING_WORKER = """
import asyncio, os, time
from hcc_utils.pipeline.kernels import kernel_manager_class

async def main():
    manager = kernel_manager_class()(kernel_name="python3")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    await client.wait_for_ready(timeout=60)
    msg_id = client.execute("", user_expressions={"pid": "__import__('os').getpid()"})
    while True:
        reply = await client.get_shell_msg(timeout=60)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    print(reply["content"]["user_expressions"]["pid"]["data"]["text/plain"], flush=True)
    time.sleep(300)

asyncio.run(main())
"""


def test_kernel_dies_with_a_worker_killed_outright():
    """kill -9 of the build kills its workers (PR_SET_PDEATHSIG); a worker's kernels must not outlive it."""
    with KernelForkServer([]):
        worker = subprocess.Popen([sys.executable, "-c", _ORPHANING_WORKER], stdout=subprocess.PIPE, text=True)
        try:
            kernel = int(worker.stdout.readline())
            assert _alive(kernel)
            worker.kill()
            worker.wait()
            assert _wait_dead(kernel), "the kernel outlived its killed worker"
        finally:
            worker.kill()


def test_without_a_server_answering_the_launcher_becomes_a_usual_kernel(tmp_path, monkeypatch):
    """A server that died (or never listened) must not fail the notebook: the launcher execs the usual kernel."""
    source = _notebook(tmp_path / "nb.ipynb", "import os, sys\nprint('pandas' in sys.modules, os.getcwd())")
    dead = tmp_path / "s"
    dead.touch()  # a path that exists but where nobody listens
    monkeypatch.setenv(kernel_server.SERVER_ENV, str(dead))
    assert forked_kernel_command(["python3", "-m", "ipykernel_launcher", "-f", "k.json"])[3] == str(
        kernel_server.LAUNCHER)
    execute_notebook(NotebookTask("nb.ipynb", 1), tmp_path, tmp_path / "run", {})
    executed = nbformat.read(tmp_path / "run" / "executed" / "nb.ipynb", as_version=4)
    assert executed.cells[-1].outputs[0]["text"] == f"False {tmp_path}\n"  # nothing imported in advance
    assert source.is_file()


def test_launcher_waits_for_a_server_still_starting(tmp_path):
    """A kernel requested before the server has bound its socket still gets a forked kernel (no race)."""
    import importlib.util
    import socket
    import threading

    spec = importlib.util.spec_from_file_location("kernel_launcher", kernel_server.LAUNCHER)
    launcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(launcher)
    path = str(tmp_path / "s")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    threading.Timer(0.5, lambda: (listener.bind(path), listener.listen(1))).start()
    started = time.monotonic()
    connection = launcher.connect(path)
    assert 0.4 < time.monotonic() - started < 5
    connection.close()
    listener.close()
    with pytest.raises(FileNotFoundError):
        launcher.connect(str(tmp_path / "never"), wait=0.2)
