extension BenchReport {
    /// Adds one protocol's pass to the run's report; with `label`, its phases and ratios are
    /// named after the protocol ("json ingest", "axon ingest").
    mutating func merge(_ pass: BenchReport, labelled label: String?) {
        for var phase in pass.phases {
            if let label { phase.name = "\(label) \(phase.name)" }
            phases.append(phase)
        }
        for (name, value) in pass.ratios { ratios[label.map { "\($0) \(name)" } ?? name] = value }
        verifyBound = verifyBound ?? pass.verifyBound
        if label == nil || boundRatio == nil { boundRatio = pass.boundRatio }
        relayMemory = relayMemory ?? pass.relayMemory
        for note in pass.notes where !notes.contains(note) { notes.append(note) }
    }

    /// With JSON and axon in one run: each axon phase's throughput and median latency over
    /// the JSON phase of the same name.
    mutating func compareWires(_ names: [String]) {
        guard names.count == 2, names[0] == "json", names[1] == "axon" else { return }
        for phase in phases where phase.name.hasPrefix("axon ") {
            let base = String(phase.name.dropFirst("axon ".count))
            guard let json = phases.first(where: { $0.name == "json " + base }) else { continue }
            if json.throughput > 0 { ratios["axon/json \(base) throughput"] = phase.throughput / json.throughput }
            if json.latency.p50 > 0 { ratios["axon/json \(base) p50 latency"] = phase.latency.p50 / json.latency.p50 }
            if let relay = phase.relayCPUSeconds, let jsonRelay = json.relayCPUSeconds, jsonRelay > 0 {
                ratios["axon/json \(base) relay cpu"] = relay / jsonRelay
            }
        }
    }
}
