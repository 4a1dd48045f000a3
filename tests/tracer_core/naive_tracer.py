"""A reference CWM tracer: ``repr`` of every local at every event, no cache, no budgets.

    python naive_tracer.py SCRIPT OUT [FRAMES]

The built-in tracer with its caps lifted must write what this writes, byte for
byte (memory addresses aside); with FRAMES, only the first FRAMES frames are
written (the script runs on untraced), to compare the start of long runs. It traces the first call of the function whose
``def`` line carries the entry marker, else the module, and only frames of
SCRIPT; a module or class body shows its variables without modules, functions,
classes and ``__dunder__`` names. Also the "no cache" column of the tracer bench.
"""

import json
import os
import sys
import types

MARKER = "# << START_OF_TRACE"
NOT_SHOWN_IN_NAMESPACES = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)


def shown(value):
    """``repr``, or the built-in tracer's text for a ``__repr__`` that raises."""
    try:
        return repr(value)
    except Exception as error:
        return f"<unrepresentable {type(value).__name__}: {type(error).__name__}>"


def main(script, out_path, max_frames=0):
    filename = os.path.abspath(script)
    with open(script, encoding="utf-8") as handle:
        text = handle.read()
    lines = [""] + [line + "\n" for line in text.split("\n")]
    marked = [n for n, line in enumerate(lines) if MARKER in line and line.lstrip().startswith("def ")]
    frames = []
    state = {"entry": None, "done": False}

    def source(lineno):
        return lines[lineno] if 0 < lineno < len(lines) else "\n"

    def shown_locals(frame):
        namespace = not (frame.f_code.co_flags & 0x0002)
        pairs = []
        for name, value in frame.f_locals.items():
            if namespace and (isinstance(value, NOT_SHOWN_IN_NAMESPACES) or (name[:2] == "__" and name[-2:] == "__")):
                continue
            pairs.append(json.dumps(name) + ": " + json.dumps(shown(value)))
        return "{" + ", ".join(pairs) + "}"

    def local_trace(frame, event, arg):
        if max_frames and len(frames) >= max_frames:
            state["done"] = True
        if state["done"]:
            return None
        if event == "line":
            frames.append("<|line_sep|>" + shown_locals(frame) + "<|action_sep|>" + source(frame.f_lineno))
        elif event in ("return", "exception"):
            head = "<|return_sep|>" if event == "return" else "<|exception_sep|>"
            frames.append(head + "<|action_sep|>" + source(frame.f_lineno) + "<|arg_sep|>" + json.dumps(shown(arg)))
            if event == "return" and frame is state["entry"]:
                state["done"] = True
                sys.settrace(None)
                return None
        return local_trace

    def on_call(frame, event, arg):
        if max_frames and len(frames) >= max_frames:
            state["done"] = True
        if state["done"] or frame.f_code.co_filename != filename:
            return None
        if state["entry"] is None:
            is_entry = frame.f_code.co_firstlineno in marked if marked else frame.f_code.co_name == "<module>"
            if not is_entry:
                return None
            state["entry"] = frame
        lineno = frame.f_lineno or frame.f_code.co_firstlineno
        frames.append("<|call_sep|>" + shown_locals(frame) + "<|action_sep|>" + source(lineno))
        return local_trace

    module = types.ModuleType("__main__")
    module.__dict__.update({"__file__": filename, "__builtins__": __builtins__, "__cached__": None})
    sys.modules["__main__"] = module
    sys.argv = [script]
    sys.path[0] = os.path.dirname(filename)
    code = compile(text, filename, "exec")
    sys.settrace(on_call)
    try:
        exec(code, module.__dict__)
        if state["entry"] is None:  # a marked entry the script never calls is called once (as the client's tool)
            for value in list(module.__dict__.values()):
                if isinstance(value, types.FunctionType) and value.__code__.co_firstlineno in marked:
                    value()
                    break
    except Exception:  # the script's own failure; the trace holds its exception events
        pass
    finally:
        sys.settrace(None)
    with open(out_path, "w", encoding="utf-8") as out:
        out.write("<|frame_sep|>" + "".join(frame + "<|frame_sep|>" for frame in frames))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0)
