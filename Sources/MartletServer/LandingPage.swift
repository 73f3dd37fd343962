import MartletRelay

/// The page a browser sees at the relay URL: what this relay is and how to use it.
/// Self-contained (no external assets).
enum LandingPage {
    static func html(for relay: Relay) -> String {
        let info = relay.configuration.info
        let nips = RelayInformationDocument.supportedNIPs.map(String.init).joined(separator: ", ")
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(info.name))</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}
            code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}
            </style></head><body>
            <h1>\(escape(info.name))</h1>
            <p>\(escape(info.description))</p>
            <p>This is a <a href="https://github.com/nostr-protocol/nips">Nostr</a> relay. Point a Nostr client at
            this address with <code>ws://</code> or <code>wss://</code>.</p>
            <p>Supported NIPs: \(nips)</p>
            <p>Connections open now: \(relay.connectionCount)</p>
            <p><small>Martlet \(RelayInformationDocument.version)</small></p>
            </body></html>
            """
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
