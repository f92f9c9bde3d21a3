"""The run's kernels (hcc_utils/pipeline/kernels.py): a slow or busy machine makes a build slower, never failing it,
and TCP kernels (Windows, portable mode) are never handed a port another kernel of the run holds."""
from __future__ import annotations

import concurrent.futures
import multiprocessing
import types

import nbformat
import pytest

from hcc_utils.pipeline import kernels
from hcc_utils.pipeline.execute import NotebookTask, StudyRunError, execute_notebook
from hcc_utils.pipeline.kernels import release_ports, reserve_ports

SILENT_CELL = "import time\ntime.sleep(5)\nprint('after five silent seconds')"
#: The kernel's "idle" status for this cell leaves 6 s after its execute reply, as on a machine too busy to run the
#: kernel's sending thread: nbclient waited 4 s for it (iopub_timeout) and papermill made that an error.
LATE_IDLE_CELL = """
import time
kernel = get_ipython().kernel
send = kernel.session.send

def late_idle(stream, msg_or_type, content=None, *args, **kwargs):
    if msg_or_type == "status" and (content or {}).get("execution_state") == "idle":
        kernel.session.send = send  # this cell's idle only
        time.sleep(6)
    return send(stream, msg_or_type, content, *args, **kwargs)

kernel.session.send = late_idle
print("this cell's idle status comes late")
"""


def _notebook(folder) -> NotebookTask:
    parameters = nbformat.v4.new_code_cell("output_dir = '.'")
    parameters.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(SILENT_CELL),
                                         nbformat.v4.new_code_cell(LATE_IDLE_CELL),
                                         nbformat.v4.new_code_cell("print('the next cell ran')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / "slow.ipynb")
    return NotebookTask("slow.ipynb", 1)


@pytest.mark.real_kernel
@pytest.mark.portable
def test_a_silent_cell_and_a_late_idle_status_make_the_build_slower_not_failing(tmp_path, monkeypatch):
    task = _notebook(tmp_path)
    execute_notebook(task, tmp_path, tmp_path / "run", {})
    executed = nbformat.read(tmp_path / "run" / "executed" / "slow.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for c in executed.cells if c.cell_type == "code" for o in c.outputs)
    assert "after five silent seconds" in printed and "idle status comes late" in printed
    assert "the next cell ran" in printed
    # the same notebook with papermill's own settings, as the runner executed it before: the build failed
    monkeypatch.setattr(kernels, "papermill_settings", lambda: {})
    with pytest.raises(StudyRunError, match="Timeout waiting for IOPub output"):
        execute_notebook(task, tmp_path, tmp_path / "before", {})


class _ScriptedSocket:
    """The system's ports in a scripted order: bind(0) may hand out a port again once it is released, before the
    kernel it was chosen for has bound it."""

    handed: list[int] = []

    def __init__(self, *args):
        self.port = 0

    def bind(self, address):
        self.port = _ScriptedSocket.handed.pop(0)

    def getsockname(self):
        return ("127.0.0.1", self.port)

    def close(self):
        pass


def test_a_port_reserved_for_one_kernel_is_never_handed_to_another(tmp_path, monkeypatch):
    monkeypatch.setattr(kernels, "socket", types.SimpleNamespace(socket=_ScriptedSocket, AF_INET=2, SOCK_STREAM=1))
    _ScriptedSocket.handed = [5001, 5002, 5001, 5002, 5003, 5004]
    folder = tmp_path / "run"
    folder.mkdir()
    assert reserve_ports(2, folder=str(folder)) == [5001, 5002]
    assert reserve_ports(2, folder=str(folder)) == [5003, 5004]  # 5001 and 5002 are skipped: reserved
    release_ports([5001, 5002], folder=str(folder))
    _ScriptedSocket.handed = [5001, 5002]
    assert reserve_ports(2, folder=str(folder)) == [5001, 5002]  # released with their kernel: free again
    # without a reservation shared by the run's processes (each worker its own, as jupyter_client's cache is per
    # process): two kernels get the same ports
    _ScriptedSocket.handed = [6001, 6002, 6001, 6002]
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    assert reserve_ports(2, folder=str(tmp_path / "a")) == reserve_ports(2, folder=str(tmp_path / "b"))


@pytest.mark.portable
def test_workers_reserving_ports_at_once_never_share_one(tmp_path):
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(4, mp_context=context) as pool:
        batches = list(pool.map(reserve_ports, [40] * 4, ["127.0.0.1"] * 4, [str(tmp_path)] * 4))
    ports = [port for batch in batches for port in batch]
    assert len(ports) == 160 and len(set(ports)) == 160
    assert sorted(int(p.name) for p in tmp_path.iterdir()) == sorted(ports)
