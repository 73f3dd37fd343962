import Negentropy
import Testing

/// Vectors published with other implementations of the protocol (the negentropy
/// project's Kotlin port checks them against its JavaScript one), so a shared
/// misreading of the appendix cannot pass here.
@Suite("Interoperability vectors")
struct InteropVectorTests {
    static let fingerprintIDs = [
        "eb6b05c2e3b008592ac666594d78ed83e7b9ab30f825b9b08878128f7500008c",
        "39b916432333e069a4386917609215cc688eb99f06fed01aadc29b1b4b92d6f0",
        "abc81d58ebe3b9a87100d47f58bf15e9b1cbf62d38623f11d0f0d17179f5f3ba",
    ]

    @Test("fingerprints of one, two and three ids match the published values")
    func publishedFingerprints() throws {
        let items = try Self.fingerprintIDs.enumerated().map { index, hex in
            NegentropyItem(timestamp: 1_678_011_277 + UInt64(index), id: try #require(NegentropyID(hex: hex)))
        }
        let storage = try SortedItems(items)
        #expect(storage.fingerprint(of: 0..<1).hex == "6d74e1212fcafc8a81d090f0ffbde8b0")
        #expect(storage.fingerprint(of: 0..<2).hex == "96b26d110825d4b1805fc56988a3e65d")
        #expect(storage.fingerprint(of: 0..<3).hex == "c15ce60f185fd24ae341076caa93daa5")
    }

    static let items: [(UInt64, String)] = [
        (1677970552, "8406d9844fb8f5a5baf3a5cd7478afa6e43d7088b4416dc2013a53fa3447ee95"),
        (1677970555, "93246d67348837e094593d01e9c734c0965f278b9c7594d2be9586568e391dd4"),
        (1677970553, "91235f37e2f90794f989ed15bae2c1f733fe402f022ba54c4e3fd370aa1c0aff"),
        (1677970543, "c7e469248b8451c3970a0cbb72c0b233688759720c3e5ca111e7e37bf11722cd"),
        (1677970552, "f971e429278b863127ef97354cc47a1f394fbb2aaa58d2c8ed3d2427b71cefe3"),
        (1677970542, "72527ebd1c5c95354693c3b0d6fc187ba8d02538ce9570ba0d174d67a1e659f1"),
        (1677970540, "fff4462dcdaaba80cc085c529263c2b1a1435d07c06b8ee5f4adbfd459818540"),
        (1677970553, "b902a1aebb9d1ddb777d1446f8dd6a6f1116d0c3c9836edbc69eb0d3aeebe4c0"),
        (1677970548, "4d1eff6693caef73f3f32eb142f77eee297d29d3b3180d913106d9f53c3c030a"),
        (1677970536, "ca047f2a40edb443bab8dc31929f8e5457d9deac5415c287a090a28a2efdf63b"),
        (1677970536, "9a92950a4498c11158d8b084be8048b38b78b18351dda2f41c278338d39204d2"),
        (1677970543, "71365dfcf3378bb07164560675874f08db063eb4714dee05c77fa5f8d6ed05e3"),
        (1677970557, "451fc9214992bd951527eecd9ad2b01647c0ceeae55dda7ca234bf573c6d5e2d"),
        (1677970538, "ef3e606c1b9291b7ba1eaa119b431763ae8a41c0da9f60c8df81e6cb85f8fc75"),
        (1677970540, "df146798366d0f399fedc8aaec88c9c80ce935ebf6dc19321ca4d48c9f0bc16e"),
        (1677970544, "6796ba8d1a9207251d6652ee56a66a92ad680d5a3f118fdff3eb7710ab45f18a"),
        (1677970537, "f8c2e717ae854234abcd89b852002d52c52101edd690ae305f61d6215ccfd114"),
        (1677970557, "6f8d146c74f5574840e8d82897a757da4b67774eafdd4bc5fdfb3ec6febfccf5"),
        (1677970537, "b3489cf0594b805a4a45c25327b12ac7c932a02027d36e5f37f8cb53c37d47e7"),
        (1677970537, "774ee3ba38031494956d5a68822151693f61f2be3c81c376ee162e8dc447bea0"),
        (1677970555, "d966df16c619a5349d5b2d0125486f7d25e231ea1d546dd453513e8fab3be610"),
        (1677970540, "3ada797b897747c1f6a389025bc03aba5c706f22f7bd60e4a2d9dabcfe21c324"),
        (1677970553, "ed3784f35f4029450f498d8c3f6acc61d90c7706f77ca1f4f75240f49aafe919"),
        (1677970553, "6a05af1884967975a30a83c96915abe34b8b24a0b2cc91791f4207e526be75ea"),
        (1677970539, "bb5c51baa893adb59c4928cc3fa21a568f3e806de3e51647a21a5ea46c4edb38"),
    ]

    @Test("the initial message for 25 items matches the JavaScript implementation's byte for byte")
    func publishedInitialMessage() throws {
        let items = try Self.items.map { timestamp, hex in
            NegentropyItem(timestamp: timestamp, id: try #require(NegentropyID(hex: hex)))
        }
        let initiator = try NegentropyInitiator(storage: try SortedItems(items))
        // Version, infinity bound, id list of 25 (0x19), then the ids in
        // timestamp-then-id order.
        let sortedIDs = [
            "9a92950a4498c11158d8b084be8048b38b78b18351dda2f41c278338d39204d2",
            "ca047f2a40edb443bab8dc31929f8e5457d9deac5415c287a090a28a2efdf63b",
            "774ee3ba38031494956d5a68822151693f61f2be3c81c376ee162e8dc447bea0",
            "b3489cf0594b805a4a45c25327b12ac7c932a02027d36e5f37f8cb53c37d47e7",
            "f8c2e717ae854234abcd89b852002d52c52101edd690ae305f61d6215ccfd114",
            "ef3e606c1b9291b7ba1eaa119b431763ae8a41c0da9f60c8df81e6cb85f8fc75",
            "bb5c51baa893adb59c4928cc3fa21a568f3e806de3e51647a21a5ea46c4edb38",
            "3ada797b897747c1f6a389025bc03aba5c706f22f7bd60e4a2d9dabcfe21c324",
            "df146798366d0f399fedc8aaec88c9c80ce935ebf6dc19321ca4d48c9f0bc16e",
            "fff4462dcdaaba80cc085c529263c2b1a1435d07c06b8ee5f4adbfd459818540",
            "72527ebd1c5c95354693c3b0d6fc187ba8d02538ce9570ba0d174d67a1e659f1",
            "71365dfcf3378bb07164560675874f08db063eb4714dee05c77fa5f8d6ed05e3",
            "c7e469248b8451c3970a0cbb72c0b233688759720c3e5ca111e7e37bf11722cd",
            "6796ba8d1a9207251d6652ee56a66a92ad680d5a3f118fdff3eb7710ab45f18a",
            "4d1eff6693caef73f3f32eb142f77eee297d29d3b3180d913106d9f53c3c030a",
            "8406d9844fb8f5a5baf3a5cd7478afa6e43d7088b4416dc2013a53fa3447ee95",
            "f971e429278b863127ef97354cc47a1f394fbb2aaa58d2c8ed3d2427b71cefe3",
            "6a05af1884967975a30a83c96915abe34b8b24a0b2cc91791f4207e526be75ea",
            "91235f37e2f90794f989ed15bae2c1f733fe402f022ba54c4e3fd370aa1c0aff",
            "b902a1aebb9d1ddb777d1446f8dd6a6f1116d0c3c9836edbc69eb0d3aeebe4c0",
            "ed3784f35f4029450f498d8c3f6acc61d90c7706f77ca1f4f75240f49aafe919",
            "93246d67348837e094593d01e9c734c0965f278b9c7594d2be9586568e391dd4",
            "d966df16c619a5349d5b2d0125486f7d25e231ea1d546dd453513e8fab3be610",
            "451fc9214992bd951527eecd9ad2b01647c0ceeae55dda7ca234bf573c6d5e2d",
            "6f8d146c74f5574840e8d82897a757da4b67774eafdd4bc5fdfb3ec6febfccf5",
        ]
        #expect(NegentropyHex.encode(initiator.initiate()) == "6100000219" + sortedIDs.joined())
    }
}
