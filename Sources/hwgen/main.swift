import HDL
import HDLBlocks
import Foundation
do {
    let m = try AxisRomDemo.module()
    for f in m.verilogFiles() {
        try f.contents.write(toFile: "/tmp/gen/\(f.name)", atomically: true, encoding: .utf8)
    }
} catch { print(error) }
