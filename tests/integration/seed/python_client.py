import requests
import json

url = "http://localhost:8000/stream/265598"
params = {"tick_type": "BidAsk", "limit": 100}

with requests.get(url, params=params, stream=True) as response:
    for line in response.iter_lines():
        if line.startswith(b'data: '):
            data = json.loads(line[6:])  # Remove 'data: ' prefix
            if data['type'] == 'tick':
                print(f"Bid: {data['data']['bid_price']}, Ask: {data['data']['ask_price']}")
            elif data['type'] == 'error':
                print(f"Error: {data['error']['message']}")
                break
            elif data['type'] == 'complete':
                print(f"Stream completed: {data['reason']}")
                break
