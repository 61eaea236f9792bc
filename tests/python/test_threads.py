"""Clients and servers shared between threads; the GIL is released."""

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from pssst import PSSSTClient, PSSSTServer, generate_key_pair

SERVER_PRIVATE, SERVER_PUBLIC = generate_key_pair()


def test_threaded_server_and_clients():
    server = PSSSTServer(SERVER_PRIVATE)
    clients = [PSSSTClient(SERVER_PUBLIC), PSSSTClient(SERVER_PUBLIC, generate_key_pair()[0])]

    def transaction(i):
        client = clients[i % 2]
        message = "request {}".format(i).encode() * (i % 7)
        packet, handler = client.pack_request(message)
        data, client_key, reply_handler = server.unpack_request(packet)
        assert data == message
        assert (client_key is None) == (i % 2 == 0)
        return handler(reply_handler(data[::-1])) == message[::-1]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(transaction, range(2000)))
    assert all(results) and len(results) == 2000


def test_threads_serving_one_queue_of_packets():
    server = PSSSTServer(SERVER_PRIVATE)
    client = PSSSTClient(SERVER_PUBLIC)
    requests = [client.pack_request(i.to_bytes(4, "big")) for i in range(1000)]
    replies = [None] * len(requests)
    lock = threading.Lock()
    next_index = [0]

    def worker():
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= len(requests):
                return
            data, _, reply_handler = server.unpack_request(requests[i][0])
            replies[i] = reply_handler(data + b"!")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (packet, handler) in enumerate(requests):
        assert handler(replies[i]) == i.to_bytes(4, "big") + b"!"


def _progress_during(call):
    """How far a pure-Python thread counts while `call` runs in this one.
    With the GIL held for the whole call it cannot count at all."""
    count = [0]
    stop = threading.Event()
    running = threading.Event()

    def counter():
        running.set()
        while not stop.is_set():
            count[0] += 1

    thread = threading.Thread(target=counter)
    thread.start()
    running.wait()
    time.sleep(0.01)
    before = count[0]
    call()
    after = count[0]
    stop.set()
    thread.join()
    return after - before


def test_gil_is_released_during_the_work():
    # Megabyte messages make each call long (tens of ms), far longer than
    # the interpreter's switch interval; a call that kept the GIL would let
    # the counter thread make no progress at all.
    big = os.urandom(32 * 1024 * 1024)
    server = PSSSTServer(SERVER_PRIVATE)
    client = PSSSTClient(SERVER_PUBLIC)
    holder = {}

    def pack():
        holder["packet"], holder["handler"] = client.pack_request(big)

    def unpack():
        holder["data"], _, holder["reply_handler"] = server.unpack_request(holder["packet"])

    def reply_pack():
        holder["reply"] = holder["reply_handler"](big)

    def reply_unpack():
        assert holder["handler"](holder["reply"]) == big

    for step in (pack, unpack, reply_pack, reply_unpack):
        assert _progress_during(step) > 0, step.__name__
