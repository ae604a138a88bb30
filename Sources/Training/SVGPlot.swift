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

/// A scatter plot on log-log axes (decade ticks with 2 and 5 between), each point labelled, one
/// colour per series, for figures that span orders of magnitude (area against throughput).
/// Plain SVG 1.1 like `SVGChart`.
public struct SVGLogScatter: Sendable {
    public struct Point: Sendable {
        public let x: Double
        public let y: Double
        public let label: String
        public init(x: Double, y: Double, label: String) {
            self.x = x
            self.y = y
            self.label = label
        }
    }

    public struct Series: Sendable {
        public let name: String
        public let color: String
        /// Points with positive, finite x and y; others are left out.
        public let points: [Point]
        public init(_ name: String, color: String, points: [Point]) {
            self.name = name
            self.color = color
            self.points = points
        }
    }

    public let title: String
    public let xLabel: String
    public let yLabel: String
    public var series: [Series] = []
    /// Straight lines y = slope * x through the origin (on log axes: parallel diagonals), e.g.
    /// lines of equal cost per unit, drawn dashed and labelled.
    public var guides: [(slope: Double, label: String)] = []
    let width = 1040.0, height = 560.0
    let left = 80.0, right = 370.0, top = 40.0, bottom = 55.0

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    public var text: String {
        let points = series.flatMap(\.points).filter { $0.x > 0 && $0.y > 0 && $0.x.isFinite && $0.y.isFinite }
        // Whole decades around the data.
        let xLow = floor(log10(points.map(\.x).min() ?? 1)), xHigh = max(xLow + 1, ceil(log10(points.map(\.x).max() ?? 10)))
        let yLow = floor(log10(points.map(\.y).min() ?? 1)), yHigh = max(yLow + 1, ceil(log10(points.map(\.y).max() ?? 10)))
        let plotW = width - left - right, plotH = height - top - bottom
        func px(_ x: Double) -> Double { left + plotW * (log10(x) - xLow) / (xHigh - xLow) }
        func py(_ y: Double) -> Double { top + plotH * (1 - (log10(y) - yLow) / (yHigh - yLow)) }
        func n(_ v: Double) -> String { SVGChart.number(v) }
        func e(_ s: String) -> String { SVGChart.escape(s) }
        var out = [#"<?xml version="1.0" encoding="UTF-8"?>"#,
                   #"<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\#(Int(width))" height="\#(Int(height))" viewBox="0 0 \#(Int(width)) \#(Int(height))" font-family="sans-serif" font-size="11">"#,
                   #"<rect x="0" y="0" width="\#(Int(width))" height="\#(Int(height))" fill="white"/>"#,
                   #"<text x="\#(n(left + plotW / 2))" y="22" text-anchor="middle" font-size="15">\#(e(title))</text>"#]
        func ticks(_ low: Double, _ high: Double) -> [Double] {
            stride(from: low, through: high, by: 1).flatMap { d -> [Double] in
                let base = pow(10, d)
                return d == high ? [base] : [base, 2 * base, 5 * base]
            }
        }
        for x in ticks(xLow, xHigh) {
            out.append(#"<line x1="\#(n(px(x)))" y1="\#(n(top))" x2="\#(n(px(x)))" y2="\#(n(top + plotH))" stroke="gainsboro"/>"#)
            out.append(#"<text x="\#(n(px(x)))" y="\#(n(top + plotH + 16))" text-anchor="middle">\#(String(format: "%g", x))</text>"#)
        }
        for y in ticks(yLow, yHigh) {
            out.append(#"<line x1="\#(n(left))" y1="\#(n(py(y)))" x2="\#(n(left + plotW))" y2="\#(n(py(y)))" stroke="gainsboro"/>"#)
            out.append(#"<text x="\#(n(left - 6))" y="\#(n(py(y) + 4))" text-anchor="end">\#(String(format: "%g", y))</text>"#)
        }
        out.append(#"<rect x="\#(n(left))" y="\#(n(top))" width="\#(n(plotW))" height="\#(n(plotH))" fill="none" stroke="gray"/>"#)
        // Guides: y = slope x, clipped to the plot.
        for guide in guides where guide.slope > 0 {
            let x0 = max(pow(10, xLow), pow(10, yLow) / guide.slope), x1 = min(pow(10, xHigh), pow(10, yHigh) / guide.slope)
            guard x0 < x1 else { continue }
            out.append(#"<line x1="\#(n(px(x0)))" y1="\#(n(py(guide.slope * x0)))" x2="\#(n(px(x1)))" y2="\#(n(py(guide.slope * x1)))" stroke="silver" stroke-dasharray="5,4"/>"#)
            out.append(#"<text x="\#(n(px(x1) - 4))" y="\#(n(py(guide.slope * x1) + 12))" text-anchor="end" fill="gray">\#(e(guide.label))</text>"#)
        }
        for s in series {
            for p in s.points where p.x > 0 && p.y > 0 && p.x.isFinite && p.y.isFinite {
                out.append(#"<circle cx="\#(n(px(p.x)))" cy="\#(n(py(p.y)))" r="4" fill="\#(s.color)"/>"#)
                out.append(#"<text x="\#(n(px(p.x) + 6))" y="\#(n(py(p.y) - 5))" fill="\#(s.color)" font-size="9">\#(e(p.label))</text>"#)
            }
        }
        out.append(#"<text x="\#(n(left + plotW / 2))" y="\#(n(height - 14))" text-anchor="middle">\#(e(xLabel))</text>"#)
        out.append(#"<text x="18" y="\#(n(top + plotH / 2))" text-anchor="middle" transform="rotate(-90 18 \#(n(top + plotH / 2)))">\#(e(yLabel))</text>"#)
        for (i, s) in series.enumerated() {
            let y = top + 10 + Double(i) * 18
            out.append(#"<circle cx="\#(n(left + plotW + 16))" cy="\#(n(y - 4))" r="4" fill="\#(s.color)"/>"#)
            out.append(#"<text x="\#(n(left + plotW + 26))" y="\#(n(y))">\#(e(s.name))</text>"#)
        }
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }
}
