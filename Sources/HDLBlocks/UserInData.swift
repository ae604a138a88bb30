import HDL

/// A module with `tuser` folded into `tdata` on both streams (`{tuser, tdata}`), around `core`:
/// for blocks that know data, `tkeep` and `tlast` only (frame engines' buffers, benches), each
/// beat's side data then travels as part of its data.
public enum UserInData {
    public static func wrap(_ core: Module, name: String) throws -> Module {
        try Module(name) { m in
            let dut = m.instance(core, name: "dut")
            let userIn = core.port(named: "s_axis_tuser")?.width ?? 0, userOut = core.port(named: "m_axis_tuser")?.width ?? 0
            for port in core.ports where port.name != "clk" && port.name != "rst" && !port.name.hasSuffix("_tuser") {
                switch (port.name, port.direction) {
                case ("s_axis_tdata", _) where userIn > 0:
                    let data = m.input("s_axis_tdata", width: port.width + userIn)
                    dut["s_axis_tdata"].assign(data.bits(port.width - 1, 0))
                    dut["s_axis_tuser"].assign(data.bits(port.width + userIn - 1, port.width))
                case ("m_axis_tdata", _) where userOut > 0:
                    m.output("m_axis_tdata", width: port.width + userOut).assign(cat(dut["m_axis_tuser"], dut["m_axis_tdata"]))
                case (_, .input): dut[port.name].assign(m.input(port.name, width: port.width))
                default: m.output(port.name, width: port.width).assign(dut[port.name])
                }
            }
        }
    }
}
