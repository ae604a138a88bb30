import HDL

/// A fully registered AXI-Stream stage (a skid buffer): `tready` and `tvalid` both come from
/// registers, so it cuts every combinational path between its two sides and still moves one beat
/// per cycle. Two payload slots: the output register and a temporary that catches the beat
/// accepted in the cycle the consumer stalled. Modelled on verilog-axis `axis_register`
/// (REG_TYPE = 2).
public enum SkidBuffer {
    /// A skid buffer module named `name` for beats of `shape` (data, last, keep and user all travel).
    public static func module(name: String, shape: StreamShape) throws -> Module {
        try Module(name) { m in
            let extras = [shape.hasLast ? "tlast" : nil, shape.keepWidth.map { "\($0)-bit tkeep" }, shape.userWidth.map { "\($0)-bit tuser" }].compactMap { $0 }
            m.comment("Skid buffer: fully registered AXI-Stream stage, \(shape.dataWidth)-bit tdata\(extras.isEmpty ? "" : " with " + extras.joined(separator: " and ")).")
            let s = m.sinkPort("s_axis", shape)
            let out = m.sourcePort("m_axis", shape)

            // Payload, low bits first: data, keep, last, user.
            let payloadIn = s.payload(in: m)
            let width = payloadIn.width
            let readyReg = m.register("s_ready", width: 1, reset: 0)
            let outValid = m.register("m_valid", width: 1, reset: 0)
            let tempValid = m.register("temp_valid", width: 1, reset: 0)
            let outPayload = m.register("m_payload", width: width, reset: nil)
            let tempPayload = m.register("temp_payload", width: width, reset: nil)

            // Accept next cycle if the output will be free or the temporary slot is empty and
            // will stay empty.
            readyReg.assign(out.ready || (!tempValid && (!outValid || !s.valid)))
            m.when(readyReg) {
                m.when(out.ready || !outValid) {
                    outValid.assign(s.valid)
                    outPayload.assign(payloadIn)
                }.otherwise {
                    tempValid.assign(s.valid)
                    tempPayload.assign(payloadIn)
                }
            }.elseWhen(out.ready) {
                outValid.assign(tempValid)
                tempValid.assign(0)
                outPayload.assign(tempPayload)
            }

            s.ready.assign(readyReg)
            out.valid.assign(outValid)
            out.assignPayload(from: outPayload)
        }
    }
}

extension ModuleBuilder {
    /// A skid buffer stage `name` after `source` (a submodule instance `name` of its own module,
    /// `<module>_<scope>_<name>`): its `ready` and `valid` come from registers, cutting every
    /// combinational path through it. Returns the stream out of the buffer, whose `ready` its
    /// consumer drives (`connect`).
    public func skidStage(_ source: Stream, name: String, file: String = #fileID, line: Int = #line) -> Stream {
        let location = SourceLocation(fileID: file, line: line)
        let shape = source.shape
        let module: Module
        do {
            module = try SkidBuffer.module(name: "\(self.name)_\(scoped(name))", shape: shape)
        } catch let error as ElaborationError {
            for d in error.diagnostics { report(d.kind, "skid stage '\(name)': \(d.message)", at: location) }
            return source
        } catch {
            report(.invalidOperand, "skid stage '\(name)': \(error)", at: location)
            return source
        }
        let buffer = instance(module, name: name, file: file, line: line)
        connect(buffer.stream("s_axis", file: file, line: line), from: source, file: file, line: line)
        return buffer.stream("m_axis", file: file, line: line)
    }
}
