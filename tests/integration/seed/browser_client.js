const eventSource = new EventSource('http://localhost:8000/stream/265598?tick_type=BidAsk&limit=100');

eventSource.onmessage = function(event) {
    const data = JSON.parse(event.data);
    if (data.type === 'tick') {
        console.log('Bid:', data.data.bid_price, 'Ask:', data.data.ask_price);
    } else if (data.type === 'error') {
        console.error('Stream error:', data.error.message);
    } else if (data.type === 'complete') {
        console.log('Stream completed:', data.reason);
        eventSource.close();
    }
};

eventSource.onerror = function(event) {
    console.error('Connection error:', event);
};
