import Foundation

/// A small SVG chart writer for `hwgen analyze --svg`: series of bars, points or lines over
/// integer x positions, with a title, axis labels, y ticks and a legend. Plain SVG 1.1, no
/// scripts or external references, so any browser or viewer shows it.
public struct SVGChart: Sendable {
    public enum Style: Sendable { case bars, points, line }

    public struct Series: Sendable {
        public let name: String
        public let color: String
        public let style: Style
        /// (x, y) pairs; non-finite y values are left out.
        public let points: [(x: Int, y: Double)]

        public init(_ name: String, color: String, style: Style, points: [(x: Int, y: Double)]) {
            self.name = name
            self.color = color
            self.style = style
            self.points = points
        }
    }

    public let title: String
    public let xLabel: String
    public let yLabel: String
    public var series: [Series] = []
    let width = 760.0, height = 380.0
    let left = 70.0, right = 20.0, top = 40.0, bottom = 50.0

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    static func number(_ v: Double) -> String { String(format: "%.1f", v) }

    public var text: String {
        let all = series.flatMap(\.points).filter { $0.y.isFinite }
        let xs = all.map(\.x), ys = all.map(\.y)
        let xMin = xs.min() ?? 0, xMax = max(xs.max() ?? 1, xMin + 1)
        let allNegative = (ys.max() ?? 1) < 0
        var yMin = min(0, ys.min() ?? 0), yMax = allNegative ? 0 : max(ys.max() ?? 1, yMin + 1e-9)
        if yMax - yMin < 1e-12 { yMax = yMin + 1 }
        let span = yMax - yMin
        if !allNegative { yMax += span * 0.05 }
        if yMin < 0 { yMin -= span * 0.05 }
        let plotW = width - left - right, plotH = height - top - bottom
        let step = plotW / Double(xMax - xMin + 1)
        func px(_ x: Int) -> Double { left + (Double(x - xMin) + 0.5) * step }
        func py(_ y: Double) -> Double { top + plotH * (1 - (y - yMin) / (yMax - yMin)) }
        var out = [#"<?xml version="1.0" encoding="UTF-8"?>"#,
                   #"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\#(Int(width))" height="\#(Int(height))" viewBox="0 0 \#(Int(width)) \#(Int(height))" font-family="sans-serif" font-size="12">"#,
                   #"<rect x="0" y="0" width="\#(Int(width))" height="\#(Int(height))" fill="white"/>"#,
                   #"<text x="\#(Self.number(width / 2))" y="22" text-anchor="middle" font-size="15">\#(Self.escape(title))</text>"#]
        // Axes, y ticks and grid.
        out.append(#"<line x1="\#(left)" y1="\#(top)" x2="\#(left)" y2="\#(top + plotH)" stroke="black"/>"#)
        out.append(#"<line x1="\#(left)" y1="\#(py(max(yMin, 0)))" x2="\#(left + plotW)" y2="\#(py(max(yMin, 0)))" stroke="black"/>"#)
        for i in 0...4 {
            let v = yMin + (yMax - yMin) * Double(i) / 4
            out.append(##"<line x1="\##(left)" y1="\##(Self.number(py(v)))" x2="\##(left + plotW)" y2="\##(Self.number(py(v)))" stroke="#dddddd"/>"##)
            out.append(#"<text x="\#(left - 6)" y="\#(Self.number(py(v) + 4))" text-anchor="end">\#(String(format: "%.3g", v))</text>"#)
        }
        for x in [xMin, (xMin + xMax) / 2, xMax] {
            out.append(#"<text x="\#(Self.number(px(x)))" y="\#(Self.number(top + plotH + 16))" text-anchor="middle">\#(x)</text>"#)
        }
        out.append(#"<text x="\#(Self.number(left + plotW / 2))" y="\#(Self.number(height - 10))" text-anchor="middle">\#(Self.escape(xLabel))</text>"#)
        out.append(#"<text x="16" y="\#(Self.number(top + plotH / 2))" text-anchor="middle" transform="rotate(-90 16 \#(Self.number(top + plotH / 2)))">\#(Self.escape(yLabel))</text>"#)
        // Series; bars of several series share each x slot side by side.
        let barSeries = series.filter { $0.style == .bars }
        // Bars rise from 0, or from the bottom when every value is negative (log probabilities).
        let baseline = allNegative ? yMin : max(yMin, 0)
        for (index, s) in series.enumerated() {
            let points = s.points.filter { $0.y.isFinite }
            out.append(#"<g class="series" id="series\#(index)">"#)
            switch s.style {
            case .bars:
                let slot = barSeries.firstIndex { $0.name == s.name } ?? 0
                let w = step * 0.8 / Double(max(1, barSeries.count))
                for p in points {
                    let x = px(p.x) - step * 0.4 + Double(slot) * w
                    let y0 = py(baseline), y1 = py(p.y)
                    out.append(#"<rect x="\#(Self.number(x))" y="\#(Self.number(min(y0, y1)))" width="\#(Self.number(max(w, 0.5)))" height="\#(Self.number(abs(y1 - y0)))" fill="\#(s.color)"/>"#)
                }
            case .points:
                for p in points { out.append(#"<circle cx="\#(Self.number(px(p.x)))" cy="\#(Self.number(py(p.y)))" r="2.5" fill="\#(s.color)"/>"#) }
            case .line:
                let path = points.map { "\(Self.number(px($0.x))),\(Self.number(py($0.y)))" }.joined(separator: " ")
                out.append(#"<polyline points="\#(path)" fill="none" stroke="\#(s.color)" stroke-width="1.5"/>"#)
            }
            out.append("</g>")
        }
        // Legend.
        for (i, s) in series.enumerated() {
            let y = top + 8 + Double(i) * 16
            out.append(#"<rect x="\#(left + plotW - 230)" y="\#(Self.number(y - 9))" width="10" height="10" fill="\#(s.color)"/>"#)
            out.append(#"<text x="\#(left + plotW - 214)" y="\#(Self.number(y))">\#(Self.escape(s.name))</text>"#)
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }
}
