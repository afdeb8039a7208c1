"""Unit tests of the demo app's routes."""

import unittest

import app


class RouteTest(unittest.TestCase):
    def test_the_front_page_greets(self) -> None:
        status, body = app.route("/")
        self.assertEqual(status, 200)
        self.assertEqual(body["message"], app.GREETING)

    def test_an_unknown_page_is_404(self) -> None:
        status, _ = app.route("/nowhere")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    unittest.main()
